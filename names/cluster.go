package names

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/suggest"
)

// The name service across a cluster. Node N's name service is at
// NodeAddr(N) on every node, so two things can cross nodes:
//
//  1. "name@node" lookups. query and resolve (and so unique, and call and
//     send by name) of a name on another node are calls to that node's
//     name service. The answer is kept in the table under "name@node"
//     until the node leaves or comes back, or says the service is gone
//     ("cluster_drop"). Lookups and messages that arrive while a resolve
//     is under way wait on it, in order (a flight).
//  2. Cluster names. tern.register(name, {cluster = true}) tells every
//     other node's name service ("cluster_add"); a node that comes up gets
//     them all at once (a snapshot, which replaces what it knew of this
//     node); a node that leaves takes its names with it. A bare name not
//     registered here falls back to them (Table.Lookup).

// Handle is the name service's handle on every node: the root spawns
// itself (1), the logger (2), then the name service (3), and fails the
// boot if the name service gets any other handle.
const Handle = 3

// NodeAddr is the address of the name service of node n.
func NodeAddr(n uint16) actor.Addr { return actor.MakeAddr(n, Handle) }

// nodeEvent: a node came up or left (System.OnNode).
type nodeEvent struct {
	info actor.NodeInfo
	up   bool
}

// flight is one resolve of "name@node" under way.
type flight struct {
	waits  []pending
	queued []*actor.Message // messages sent to the name meanwhile, in order
}

// registerOpts are the options of register: {cluster = true}.
var registerOpts = []string{"cluster"}

// SetCallTimeout bounds a query of "name@node" that gives no deadline of
// its own: the cluster's call timeout. Call it before the service is
// spawned.
func (s *Service) SetCallTimeout(d time.Duration) { s.callTimeout = d }

// clusterOpt reads register's options, argument i: whether the name is a
// cluster one.
func clusterOpt(args []any, i int) (bool, error) {
	if len(args) <= i || args[i] == nil {
		return false, nil
	}
	opts, ok := args[i].(map[string]any)
	if !ok {
		return false, fmt.Errorf("names: register: argument #%d must be a table of options ({cluster = true}), not %T", i+1, args[i])
	}
	cluster := false
	for k, v := range opts {
		if k != "cluster" {
			return false, fmt.Errorf("names: register: unknown option %q%s", k, suggest.Key(k, registerOpts))
		}
		b, ok := v.(bool)
		if !ok {
			return false, fmt.Errorf("names: register: option cluster must be a boolean, not %T", v)
		}
		cluster = b
	}
	return cluster, nil
}

// inCluster reports whether this node is in a cluster.
func inCluster(c *actor.Context) bool { return c.System().Nodes() != nil }

// Node reads "base@node" on sys: base, and the number of node. A bad
// name, sys in no cluster (actor.ErrNoCluster), or a node the cluster
// does not know (ErrNoNode) is an error naming it. Senders check a
// name@node with it before they hand a message to the name service, so
// that what can never be delivered fails where it is sent.
func Node(sys *actor.System, name string) (string, uint16, error) {
	base, node := Split(name)
	if !LocalName(base) || node == "" {
		return "", 0, fmt.Errorf("%w: %q: want name@node", ErrBadName, name)
	}
	if sys.Nodes() == nil {
		return "", 0, fmt.Errorf("names: %q: %w", name, actor.ErrNoCluster)
	}
	n, _, ok := sys.NodeOf(node)
	if !ok {
		return "", 0, fmt.Errorf("%w %q (looking up %q)", ErrNoNode, node, name)
	}
	return base, n, nil
}

func (s *Service) node(c *actor.Context, name string) (string, uint16, error) {
	return Node(c.System(), name)
}

// remoteErr names the node of a failed remote lookup.
func remoteErr(cmd, name string, err error) error {
	_, node := Split(name)
	return fmt.Errorf("names: %s %q on node %q: %w", cmd, name, node, err)
}

// remoteAddr reads the answer of node n's name service: mostly one of
// its services, but a name it knows as a cluster name may be on a third
// node.
func remoteAddr(n uint16, res []any) (actor.Addr, error) {
	if len(res) > 0 {
		if v, ok := res[0].(int64); ok && v > 0 && actor.Addr(v).Node() != 0 {
			return actor.Addr(v), nil
		}
	}
	return actor.None, fmt.Errorf("bad answer from node %d: %v", n, res)
}

// remoteQuery answers p with the address of "base@node" once node's name
// service knows it, within p's deadline or else the call timeout.
func (s *Service) remoteQuery(c *actor.Context, name string, p pending) error {
	if a, ok := s.table.Lookup(name); ok {
		reply(c, p, a)
		return nil
	}
	base, n, err := s.node(c, name)
	if err != nil {
		return err
	}
	if n == c.System().Node() {
		return s.query(c, base, p)
	}
	d := s.callTimeout
	if p.timed {
		d = p.deadline
	}
	if d <= 0 {
		d = actor.DefaultRemoteCallTimeout
	}
	c.Call(NodeAddr(n), "query", []any{base, float64(d) / float64(time.Millisecond)}, func(res []any, err error) {
		var a actor.Addr
		if err == nil {
			a, err = remoteAddr(n, res)
		}
		if err != nil {
			if p.session != 0 {
				c.Fail(p.from, p.session, remoteErr("query", name, err))
			}
			return
		}
		s.table.setRemote(name, a)
		reply(c, p, a)
	})
	return nil
}

// remoteResolve answers p with the address of "base@node", starting the
// service declared there if need be; or, with m set, delivers m to it.
// Every lookup of the name while one is under way shares it.
func (s *Service) remoteResolve(c *actor.Context, name string, p pending, m *actor.Message) error {
	if a, ok := s.table.Lookup(name); ok {
		if m != nil {
			c.Forward(a, m)
			c.Keep()
			return nil
		}
		reply(c, p, a)
		return nil
	}
	base, n, err := s.node(c, name)
	if err != nil {
		return err
	}
	if n == c.System().Node() {
		if m != nil {
			s.forward(c, base, m, actor.None)
			return nil
		}
		return s.resolve(c, base, p)
	}
	f := s.flights[name]
	if m != nil {
		c.Keep()
	}
	if f != nil {
		f.add(p, m)
		return nil
	}
	f = &flight{}
	f.add(p, m)
	s.flights[name] = f
	c.Call(NodeAddr(n), "resolve", []any{base}, func(res []any, err error) {
		s.landed(c, name, n, res, err)
	})
	return nil
}

func (f *flight) add(p pending, m *actor.Message) {
	if m != nil {
		f.queued = append(f.queued, m)
	} else if p.session != 0 {
		f.waits = append(f.waits, p)
	}
}

// landed ends the flight of name with node n's answer.
func (s *Service) landed(c *actor.Context, name string, n uint16, res []any, err error) {
	f := s.flights[name]
	delete(s.flights, name)
	var a actor.Addr
	if err == nil {
		a, err = remoteAddr(n, res)
	}
	if err != nil {
		err = remoteErr("resolve", name, err)
		for _, p := range f.waits {
			c.Fail(p.from, p.session, err)
		}
		for _, q := range f.queued {
			s.refuse(c, name, q, err)
			q.Release()
		}
		return
	}
	// As for a launch: what was sent to the name goes before the name is
	// published, so that a sender's later messages cannot overtake it.
	for _, q := range f.queued {
		c.Forward(a, q)
	}
	s.table.setRemote(name, a)
	for _, p := range f.waits {
		reply(c, p, a)
	}
}

// clusterRegister makes name, just registered for a, a cluster name.
func (s *Service) clusterRegister(c *actor.Context, name string, a actor.Addr) {
	s.cluster[name] = a
	s.broadcast(c, "cluster_add", false, name, a)
}

// broadcast sends cmd to the name service of every other node up.
func (s *Service) broadcast(c *actor.Context, cmd string, args ...any) {
	sys := c.System()
	for _, n := range sys.Nodes() {
		if !n.Self && n.Up && n.Number != sys.Node() {
			if err := c.Send(NodeAddr(n.Number), cmd, args...); err != nil {
				c.Logger().Debug("cluster: "+cmd+" not sent", "node", n.Name, "err", err)
			}
		}
	}
}

// snapshot is this node's cluster names, for "cluster_add": full, then
// name, address pairs.
func (s *Service) snapshot() []any {
	keys := make([]string, 0, len(s.cluster))
	for k := range s.cluster {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []any{true}
	for _, k := range keys {
		out = append(out, k, s.cluster[k])
	}
	return out
}

// fromNode checks that a cluster command comes from another node's name
// service, and returns that node.
func fromNode(c *actor.Context, cmd string, from actor.Addr) (uint16, error) {
	n := from.Node()
	if n == 0 || n == c.System().Node() || from.Handle() != Handle {
		return 0, fmt.Errorf("names: %s: only the name service of another node may send it, not %s", cmd, from)
	}
	return n, nil
}

// clusterAdd takes cluster names from node n: (full, name, addr, ...). A
// full list replaces what this node knew of n, its "name@node" answers
// included: n sends it when it sees this node come up, which is also when
// n itself has just (re)started.
func (s *Service) clusterAdd(c *actor.Context, from actor.Addr, args []any) error {
	n, err := fromNode(c, "cluster_add", from)
	if err != nil {
		return err
	}
	if full, _ := args[0].(bool); full {
		s.table.dropRemote(func(_ string, a actor.Addr) bool { return a.Node() == n })
	}
	for i := 1; i+1 < len(args); i += 2 {
		name, _ := args[i].(string)
		v, _ := args[i+1].(int64)
		a := actor.Addr(v)
		if !LocalName(name) || a.Node() != n {
			continue
		}
		s.table.setRemote(name, a)
		if _, ok := s.table.local(name); !ok {
			s.answer(c, name, queryWait, a)
		}
	}
	return nil
}

// clusterDrop forgets a service of node n that stopped: its cluster names
// and the answers naming it.
func (s *Service) clusterDrop(c *actor.Context, from actor.Addr, args []any) error {
	n, err := fromNode(c, "cluster_drop", from)
	if err != nil {
		return err
	}
	v, _ := args[0].(int64)
	if gone := actor.Addr(v); gone.Node() == n {
		s.table.dropRemote(func(_ string, a actor.Addr) bool { return a == gone })
	}
	return nil
}

// localExited tells the other nodes that a named service of this node
// stopped (names are its names, released).
func (s *Service) localExited(c *actor.Context, a actor.Addr, names []string) {
	for _, name := range names {
		if s.cluster[name] == a {
			delete(s.cluster, name)
		}
	}
	if len(names) > 0 && inCluster(c) {
		s.broadcast(c, "cluster_drop", a)
	}
}

// nodeChanged handles a node that came up or left. Either way its
// addresses this node knew may be stale: a node that left takes its
// cluster names; one that came up may have restarted, so the "name@node"
// answers go (its cluster names stay: the snapshot it sends replaces
// them, and may have arrived first). One that came up gets this node's
// snapshot.
func (s *Service) nodeChanged(c *actor.Context, ev nodeEvent) {
	n := ev.info.Number
	if ev.info.Self || n == c.System().Node() {
		return
	}
	c.Logger().Debug("cluster: node changed", "node", ev.info.Name, "number", n, "up", ev.up)
	if !ev.up {
		s.table.dropRemote(func(_ string, a actor.Addr) bool { return a.Node() == n })
		return
	}
	s.table.dropRemote(func(k string, a actor.Addr) bool { return a.Node() == n && strings.ContainsRune(k, '@') })
	if err := c.Send(NodeAddr(n), "cluster_add", s.snapshot()...); err != nil {
		c.Logger().Debug("cluster: names not sent", "node", ev.info.Name, "err", err)
	}
}
