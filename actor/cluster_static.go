package actor

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	pc "github.com/asynkron/protoactor-go/cluster"
	pb "github.com/tern-dev/tern/proto"
)

// staticProvider is the "static" membership provider: a fixed list of
// nodes, each probed over the remote (a KIND_PROBE envelope to its tern
// process, answered with its incarnation, name and kinds). A node is a
// member while it answers; it is out after downAfter probes in a row go
// unanswered, or at once when it says it leaves.
//
// protoactor-go's MemberList blocks an incarnation forever once it leaves
// its topology (the remote then refuses that incarnation's connections),
// and ends the endpoint at its address, which a new incarnation at the
// same address may be using already. So the MemberList is shown every
// incarnation seen until it says it leaves: a node that hung or was cut
// off, then answers again, is up again with nothing restarted. Whether a
// node is up is this provider's to say: each round hands the nodes that
// answered to the node table directly (the MemberList's topology is not
// used).
//
// protoactor-go's automanaged provider does the same with an extra HTTP
// port per node; this one needs only the remote.
type staticProvider struct {
	c         *clusterState
	interval  time.Duration // between probe rounds
	timeout   time.Duration // a probe's answer
	downAfter int           // unanswered probes in a row that make a node down

	started atomic.Bool
	kick    chan struct{} // a round now: a connection was lost, a node said hello
	stop    chan struct{}
	done    chan struct{}

	mu    sync.Mutex
	peers []*staticPeer
	left  map[string]bool       // incarnations that said they leave
	seen  map[string]*pc.Member // incarnations seen up that have not left, by id
}

type staticPeer struct {
	node    string
	address string
	pid     *pa.PID
	alive   *pc.Member // nil while down
	fails   int
	// suspect: not known to be listening (down, failed a probe, lost its
	// connection). A suspect is dialled before it is probed: a probe over
	// the remote to a closed port would tie protoactor's endpoint writer
	// up in its reconnect attempts, and LeaveCluster waits for those.
	suspect bool
	// number is the node's, and heard what had come from it at the last
	// round: a node whose traffic keeps coming is alive, though a probe
	// waited too long behind that traffic.
	number uint16
	heard  uint64
}

var _ pc.ClusterProvider = (*staticProvider)(nil)

func newStaticProvider(c *clusterState) *staticProvider {
	sp := &staticProvider{
		c:         c,
		interval:  250 * time.Millisecond,
		timeout:   time.Second,
		downAfter: 3,
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		left:      map[string]bool{},
		seen:      map[string]*pc.Member{},
	}
	for _, m := range c.cfg.Members {
		if m.Node != c.cfg.Node {
			sp.peers = append(sp.peers, &staticPeer{node: m.Node, address: m.Address, pid: pa.NewPID(m.Address, ternPID), suspect: true, number: memberNumber(m)})
		}
	}
	return sp
}

// StartMember runs a first round of probes, so that the nodes up already
// are members when the cluster starts, then probes on its own goroutine.
func (sp *staticProvider) StartMember(*pc.Cluster) error {
	sp.round()
	sp.started.Store(true)
	go sp.loop()
	return nil
}

func (sp *staticProvider) StartClient(*pc.Cluster) error { return sp.StartMember(nil) }

// Shutdown stops the probes; graceful, it tells every live node that this
// one leaves, so that they drop it at once.
func (sp *staticProvider) Shutdown(graceful bool) error {
	select {
	case <-sp.stop:
		return nil
	default:
	}
	close(sp.stop)
	if sp.started.Load() {
		<-sp.done
	}
	if !graceful {
		return nil
	}
	// Each live node acknowledges the leave, so that it is on the wire
	// before the remote stops.
	bye := &pb.Envelope{Kind: pb.Kind_KIND_LEAVE, Member: sp.c.selfMember()}
	var acks []*pa.Future
	sp.mu.Lock()
	for _, p := range sp.peers {
		if p.alive != nil {
			acks = append(acks, sp.c.sys.as.Root.RequestFuture(p.pid, bye, sp.timeout))
		}
	}
	sp.mu.Unlock()
	for _, f := range acks {
		_, _ = f.Result()
	}
	return nil
}

func (sp *staticProvider) loop() {
	defer close(sp.done)
	t := time.NewTicker(sp.interval)
	defer t.Stop()
	for {
		select {
		case <-sp.stop:
			return
		case <-t.C:
		case <-sp.kick:
		}
		sp.round()
	}
}

var (
	errNotListening = errors.New("not listening")
	errRefused      = errors.New("connection refused: nothing listens")
)

// listening reports whether something accepts connections at address: nil,
// errRefused (the host says nothing listens there: the process is gone),
// or errNotListening (no answer: the host is down or cut off).
func listening(address string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", address, timeout)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return errRefused
		}
		return errNotListening
	}
	conn.Close()
	return nil
}

// lost marks the node at address suspect: its connection was lost.
func (sp *staticProvider) lost(address string) {
	sp.mu.Lock()
	for _, p := range sp.peers {
		if p.address == address {
			p.suspect = true
		}
	}
	sp.mu.Unlock()
	sp.probeSoon()
}

// probeSoon asks for a round of probes now.
func (sp *staticProvider) probeSoon() {
	select {
	case sp.kick <- struct{}{}:
	default:
	}
}

// leave drops the incarnation id at once: it said it leaves.
func (sp *staticProvider) leave(id string) {
	sp.mu.Lock()
	sp.left[id] = true
	sp.mu.Unlock()
	sp.probeSoon()
}

// round probes every node at once, then hands the members that answered
// (this one included) to the MemberList.
func (sp *staticProvider) round() {
	c := sp.c
	hello := &pb.Envelope{Kind: pb.Kind_KIND_PROBE, Member: c.selfMember()}
	futures := make([]*pa.Future, len(sp.peers))
	dials := make([]error, len(sp.peers))
	for i, p := range sp.peers {
		sp.mu.Lock()
		suspect := p.suspect
		sp.mu.Unlock()
		if suspect {
			if dials[i] = listening(p.address, sp.timeout); dials[i] != nil {
				continue
			}
		}
		futures[i] = c.sys.as.Root.RequestFuture(p.pid, hello, sp.timeout)
	}
	self := c.selfClusterMember()
	members := []*pc.Member{self} // up now
	for i, p := range sp.peers {
		var res any
		err := dials[i]
		if futures[i] != nil {
			res, err = futures[i].Result()
		}
		env, _ := res.(*pb.Envelope)
		m := env.GetMember()
		heard := false
		if np := c.peer(p.number); np != nil {
			r := np.received.Load()
			heard, p.heard = r != p.heard, r
		}
		sp.mu.Lock()
		p.suspect = err != nil
		switch {
		case err == nil && m != nil && m.Node != p.node:
			c.sys.warnings.Warn(c.sys.log, "cluster: static member answers with another name", p.address,
				"address", p.address, "listed", p.node, "answers", m.Node)
			p.alive, p.fails = nil, sp.downAfter
		case err == nil && m != nil && !sp.left[m.Id]:
			host, port, _ := splitHostPort(p.address)
			p.alive = &pc.Member{Id: m.Id, Host: host, Port: int32(port), Kinds: m.Kinds}
			sp.seen[m.Id] = p.alive
			p.fails = 0
		case p.alive != nil && sp.left[p.alive.Id]:
			p.alive = nil
		case p.alive != nil && heard && err != errNotListening && err != errRefused:
			p.fails = 0 // late, behind its traffic
		default:
			if p.fails++; p.fails >= sp.downAfter {
				p.alive = nil
			}
		}
		if err == errRefused {
			// Its process is gone: its incarnations leave the MemberList
			// (which ends the endpoint at the address), before a new one
			// at that address answers.
			p.alive, p.fails = nil, sp.downAfter
			for id, m := range sp.seen {
				if m.Host+":"+strconv.Itoa(int(m.Port)) == p.address {
					delete(sp.seen, id)
				}
			}
		}
		if p.alive != nil {
			members = append(members, p.alive)
		}
		sp.mu.Unlock()
	}
	listed := []*pc.Member{self}
	sp.mu.Lock()
	for id, m := range sp.seen {
		if sp.left[id] {
			delete(sp.seen, id)
		} else {
			listed = append(listed, m)
		}
	}
	sp.mu.Unlock()
	select {
	case <-sp.stop:
		return // leaving: the topology no longer matters
	default:
	}
	c.updateTopology(listed)
	c.nodes.topology(&pc.ClusterTopology{Members: members})
}

// selfMember describes this node in probes.
func (c *clusterState) selfMember() *pb.Member {
	return &pb.Member{Id: c.memberID, Node: c.cfg.Node, Number: uint32(c.sys.node), Address: c.address, Kinds: []string{c.kind}}
}

func (c *clusterState) selfClusterMember() *pc.Member {
	host, port, _ := splitHostPort(c.address)
	return &pc.Member{Id: c.memberID, Host: host, Port: int32(port), Kinds: []string{c.kind}}
}

// membership answers a probe, and takes note of a leave.
func (c *clusterState) membership(env *pb.Envelope, sender *pa.PID) {
	switch env.Kind {
	case pb.Kind_KIND_PROBE:
		if sender != nil && !c.left.Load() {
			c.sys.as.Root.Send(sender, &pb.Envelope{Kind: pb.Kind_KIND_PROBE, Member: c.selfMember()})
		}
		if m := env.GetMember(); m != nil && c.static != nil {
			if _, up, _ := c.nodes.byName(m.Node); !up {
				c.static.probeSoon() // a node says hello: see it now
			}
		}
	case pb.Kind_KIND_LEAVE:
		if m := env.GetMember(); m != nil && c.static != nil {
			c.static.leave(m.Id)
		}
		if sender != nil {
			c.sys.as.Root.Send(sender, &pb.Envelope{Kind: pb.Kind_KIND_LEAVE})
		}
	}
}
