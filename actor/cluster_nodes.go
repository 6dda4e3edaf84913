package actor

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	pa "github.com/asynkron/protoactor-go/actor"
	pc "github.com/asynkron/protoactor-go/cluster"
)

// nodeTable is what this node knows of the others: one peer per node name,
// made when the node is first configured or seen, never removed (a node
// that leaves is marked down and keeps its counters). A post reads it
// without a lock: byNumber is copied on write.
type nodeTable struct {
	c        *clusterState
	byNumber atomic.Pointer[map[uint16]*peer]
	mu       sync.Mutex // membership changes; the fields of peers marked so
	names    map[string]*peer
	selfErr  error // a member that collides with this node, seen at the start
}

// peer is another node.
type peer struct {
	name   string
	number uint16
	up     atomic.Bool
	pid    atomic.Pointer[pa.PID] // its tern process, at its current address
	// Under nodeTable.mu:
	member  string // its incarnation (ActorSystem id) while up
	address string

	sent, received, dropped, failed atomic.Uint64
}

func (t *nodeTable) init(c *clusterState) {
	t.c = c
	t.names = make(map[string]*peer)
	m := map[uint16]*peer{}
	t.byNumber.Store(&m)
	for _, cm := range c.cfg.Members {
		if cm.Node != c.cfg.Node {
			t.add(cm.Node, memberNumber(cm), cm.Address)
		}
	}
}

// add makes the peer of a node not known yet; under mu (or at init).
func (t *nodeTable) add(name string, number uint16, address string) *peer {
	p := &peer{name: name, number: number, address: address}
	p.pid.Store(pa.NewPID(address, ternPID))
	t.names[name] = p
	old := *t.byNumber.Load()
	m := make(map[uint16]*peer, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[number] = p
	t.byNumber.Store(&m)
	return p
}

// peer is the node numbered n, or nil.
func (c *clusterState) peer(n uint16) *peer { return (*c.nodes.byNumber.Load())[n] }

// nodeName names node n for errors: its name, or its number.
func (c *clusterState) nodeName(n uint16) string {
	if p := c.peer(n); p != nil {
		return p.name
	}
	return "node number " + strconv.Itoa(int(n))
}

// nodeKind is the cluster kind a node registers: its number and name, so
// that every member's node is known from the topology alone.
func nodeKind(number uint16, name string) string {
	return "tern.node:" + strconv.Itoa(int(number)) + ":" + name
}

func parseNodeKind(kinds []string) (name string, number uint16, ok bool) {
	for _, k := range kinds {
		rest, found := strings.CutPrefix(k, "tern.node:")
		if !found {
			continue
		}
		num, name, found := strings.Cut(rest, ":")
		n, err := strconv.ParseUint(num, 10, 16)
		if !found || err != nil || n == 0 || name == "" {
			return "", 0, false
		}
		return name, uint16(n), true
	}
	return "", 0, false
}

type nodeChange struct {
	info NodeInfo
	up   bool
}

// topology applies a membership change: the members now, as the provider
// sees them (blocked incarnations already left out by protoactor).
func (t *nodeTable) topology(top *pc.ClusterTopology) {
	c := t.c
	joined := map[string]bool{}
	for _, m := range top.Joined {
		joined[m.Id] = true
	}
	t.mu.Lock()
	chosen := map[string]*pc.Member{}
	for _, m := range top.Members {
		if m.Id == c.memberID {
			continue
		}
		name, number, ok := parseNodeKind(m.Kinds)
		if !ok {
			continue // not a tern node
		}
		if name == c.cfg.Node || number == c.sys.node {
			err := fmt.Errorf("actor: cluster: node %s (number %d, at %s) collides with this node, %s (number %d): refused",
				name, number, m.Address(), c.cfg.Node, c.sys.node)
			t.selfErr = err
			c.sys.warnings.Warn(c.sys.log, "cluster: member refused", "self "+m.Id, "err", err)
			continue
		}
		p := t.names[name]
		if q := c.peer(number); q != nil && q.name != name {
			c.sys.warnings.Warn(c.sys.log, "cluster: member refused", "number "+m.Id,
				"err", fmt.Errorf("node %s has number %d, as node %s does", name, number, q.name))
			continue
		}
		if p != nil && p.number != number {
			c.sys.warnings.Warn(c.sys.log, "cluster: member refused", "renumbered "+m.Id,
				"err", fmt.Errorf("node %s now has number %d; it had %d", name, number, p.number))
			continue
		}
		// Two incarnations of one node at once (a restart the provider has
		// not seen the end of yet): the one that just joined is the new one.
		if prev, ok := chosen[name]; !ok || joined[m.Id] && !joined[prev.Id] {
			chosen[name] = m
		}
	}
	var changes []nodeChange
	var failed []*peer
	for name, m := range chosen {
		p := t.names[name]
		_, number, _ := parseNodeKind(m.Kinds)
		if p == nil {
			p = t.add(name, number, m.Address())
		}
		if p.up.Load() && p.member == m.Id {
			continue
		}
		if p.up.Load() {
			failed = append(failed, p) // restarted: its old incarnation answers nothing
		}
		p.member = m.Id
		if a := m.Address(); a != p.address {
			p.address = a
			p.pid.Store(pa.NewPID(a, ternPID))
		}
		p.up.Store(true)
		changes = append(changes, nodeChange{p.infoLocked(), true})
	}
	for name, p := range t.names {
		if _, ok := chosen[name]; ok || !p.up.Load() {
			continue
		}
		p.up.Store(false)
		p.member = ""
		failed = append(failed, p)
		changes = append(changes, nodeChange{p.infoLocked(), false})
	}
	t.mu.Unlock()
	for _, p := range failed {
		c.calls.failNode(p.number, "it left the cluster")
	}
	t.notify(changes)
}

func (t *nodeTable) notify(changes []nodeChange) {
	c := t.c
	for _, ch := range changes {
		if ch.up {
			c.sys.log.Info("cluster: node up", "node", ch.info.Name, "number", ch.info.Number, "address", ch.info.Address)
		} else {
			c.sys.log.Warn("cluster: node down", "node", ch.info.Name, "number", ch.info.Number, "address", ch.info.Address)
		}
		for _, fn := range c.sys.nodeHooks() {
			fn(ch.info, ch.up)
		}
	}
}

// allDown marks every node down: this one left.
func (t *nodeTable) allDown(why string) {
	var changes []nodeChange
	t.mu.Lock()
	for _, p := range t.names {
		if p.up.Swap(false) {
			p.member = ""
			changes = append(changes, nodeChange{p.infoLocked(), false})
		}
	}
	t.mu.Unlock()
	t.notify(changes)
}

// selfCollision is the error of a member seen colliding with this node.
func (t *nodeTable) selfCollision() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.selfErr
}

func (t *nodeTable) byName(name string) (number uint16, up, ok bool) {
	if name == t.c.cfg.Node {
		return t.c.sys.node, !t.c.left.Load(), true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.names[name]
	if p == nil {
		return 0, false, false
	}
	return p.number, p.up.Load(), true
}

func (t *nodeTable) list() []NodeInfo {
	c := t.c
	out := []NodeInfo{{Name: c.cfg.Node, Number: c.sys.node, Address: c.address, Self: true, Up: !c.left.Load()}}
	t.mu.Lock()
	for _, p := range t.names {
		out = append(out, p.infoLocked())
	}
	t.mu.Unlock()
	slices.SortFunc(out[1:], func(a, b NodeInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (p *peer) infoLocked() NodeInfo {
	return NodeInfo{
		Name: p.name, Number: p.number, Address: p.address, Up: p.up.Load(),
		Sent: p.sent.Load(), Received: p.received.Load(), Dropped: p.dropped.Load(), Failed: p.failed.Load(),
	}
}
