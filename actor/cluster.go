package actor

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	pc "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	pb "github.com/tern-dev/tern/proto"
	"google.golang.org/grpc"
)

// ClusterConfig joins a System to a cluster of nodes (config.lua's
// cluster table). Traffic between nodes runs on protoactor-go's remote
// (gRPC streams); membership on its cluster package with a provider.
type ClusterConfig struct {
	Name      string // the cluster's name: nodes of one cluster see each other
	Node      string // this node's name, unique in the cluster
	Listen    string // host:port the remote listens on
	Advertise string // host:port other nodes reach this one at; "" means Listen
	// Provider is the membership provider: "static" (Members, a fixed
	// list, cluster_static.go), "etcd" (Etcd, cluster_etcd.go) or
	// "consul" (Consul, cluster_consul.go). "automanaged" is refused: it
	// needs an extra HTTP port per node, and static does its work.
	Provider string
	Members  []ClusterMember // static: every node, this one included
	Etcd     []string        // etcd endpoints, "127.0.0.1:2379"
	Consul   string          // consul agent address; "" means its default
	// CallTimeout bounds every call to another node: past it the caller
	// gets an error naming the node. 0 means DefaultRemoteCallTimeout.
	CallTimeout time.Duration
}

// ClusterMember is one node of a static cluster.
type ClusterMember struct {
	Node    string // the node's name
	Address string // its advertised host:port
	ID      uint16 // its node number; 0 derives it from the name (NodeNumber)
}

// DefaultRemoteCallTimeout bounds a call to another node when
// ClusterConfig.CallTimeout is 0.
const DefaultRemoteCallTimeout = 10 * time.Second

// NodeInfo describes a node of the cluster, this one included.
type NodeInfo struct {
	Name    string
	Number  uint16 // the node part of its services' addresses
	Address string // advertised host:port
	Self    bool
	Up      bool // a member now
	// Counters of traffic to and from the node since this one started.
	Sent, Received uint64
	// Dropped counts messages to the node that were dropped: sends while
	// it was down or unknown, and messages the transport lost.
	Dropped uint64
	// Failed counts calls to the node that failed for the node (down,
	// timed out), not for the remote handler's error.
	Failed uint64
}

// ErrNodeDown: the node an address names is not a member of the cluster
// now, or stopped answering. The error names the node.
var ErrNodeDown = errors.New("node down")

// ErrNoCluster: a name@node or a remote address on a System that is in
// no cluster.
var ErrNoCluster = errors.New("not in a cluster")

// NodeNumber is the node number derived from a node's name: the same on
// every node, never 0 (the standalone node).
func NodeNumber(name string) uint16 {
	h := fnv.New32a()
	h.Write([]byte(name))
	n := uint16(h.Sum32() ^ h.Sum32()>>16)
	if n == 0 {
		n = 1
	}
	return n
}

// clusterHolder is the System's part of the cluster: the state while it
// is in one, and the OnNode hooks, which may come before.
type clusterHolder struct {
	atomic.Pointer[clusterState]
	mu      sync.Mutex // StartCluster and LeaveCluster
	joined  bool       // a System joins one cluster once
	hooksMu sync.Mutex // topology changes run hooks under mu: they need their own
	hooks   []func(NodeInfo, bool)
}

// clusterState is a System in a cluster.
type clusterState struct {
	sys      *System
	cfg      ClusterConfig
	c        *pc.Cluster
	provider pc.ClusterProvider
	static   *staticProvider // when the provider is static
	calls    remoteCalls
	left     atomic.Bool
	memberID string // this node's incarnation (its ActorSystem's id)
	kind     string // this node's cluster kind: tern.node:<number>:<name>
	address  string // advertised host:port
	subs     []*eventstream.Subscription
	leaveCtx context.Context // bounds a provider's Shutdown
	// blockMu orders protoactor-go's block list: at the pinned version
	// BlockList.IsBlocked reads it without the lock Block takes, from the
	// remote's reader of each new connection. Block is called from
	// UpdateClusterTopology (updateTopology holds blockMu), IsBlocked
	// while the reader handles a ConnectRequest (the guard holds blockMu
	// for reading then).
	blockMu sync.RWMutex

	// Lock order: holder.mu, then nodes.mu.
	nodes nodeTable
}

// StartCluster joins the cluster: it starts the remote listener and the
// membership provider. The System must have been made with Options.Node
// equal to this node's number. It fails when the config is wrong (naming
// the key), when two nodes' numbers collide, or when the listener can't
// be opened. It returns once the nodes up already are known (static:
// one round of probes; etcd: the keys there). A System joins once: after
// LeaveCluster, or a failed start, a new System is needed to join again
// (a restarted node is a new System anyway, a new incarnation to the
// others).
func (s *System) StartCluster(cfg ClusterConfig) (err error) {
	h := &s.cluster
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.joined {
		return errors.New("actor: cluster: this System already joined a cluster (a System joins once)")
	}
	if err := s.checkCluster(&cfg); err != nil {
		return err
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultRemoteCallTimeout
	}
	host, port, _ := splitHostPort(cfg.Listen)
	if ln, err := net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("actor: cluster: node %s: cluster.listen %s: %w", cfg.Node, cfg.Listen, err)
	} else {
		ln.Close()
	}
	c := &clusterState{sys: s, cfg: cfg, memberID: s.as.ID, address: cfg.Advertise}
	c.kind = nodeKind(s.node, cfg.Node)
	c.nodes.init(c)
	provider, err := c.newProvider()
	if err != nil {
		return err
	}
	c.provider = provider
	h.joined = true

	if _, ok := s.as.ProcessRegistry.Add(ternProcess{c}, ternPID); !ok {
		return errors.New("actor: cluster: a process named tern already exists")
	}
	c.subscribe()
	c.calls.init(c, cfg.CallTimeout)

	opts := []remote.ConfigOption{
		remote.WithServerOptions(grpc.StreamInterceptor(c.guard)),
		// protoactor-go's default starts each endpoint writer's queue at a
		// million slots (16 MB of pointers the GC scans on every cycle);
		// the queue grows as needed.
		remote.WithEndpointWriterQueueSize(1 << 12),
	}
	if cfg.Advertise != cfg.Listen {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	rc := remote.Configure(host, port, opts...)
	// One connection attempt, not five two seconds apart: a node that is
	// down is the membership's business, and the envelopes queued for it
	// come back as dead letters at once (each call among them fails).
	rc.MaxRetryCount = 1
	c.c = pc.New(s.as, pc.Configure(cfg.Name, provider, disthash.New(), rc, pc.WithKinds(c.clusterKinds()...)))
	s.cluster.Store(c)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("actor: cluster: node %s: start: %v", cfg.Node, r)
		}
		if err != nil {
			c.stop(context.Background(), "start failed", false)
			s.cluster.Store(nil)
		}
	}()
	if c.usesGossip() {
		s.spawnMu.Lock() // see startMember
		func() {
			defer s.spawnMu.Unlock()
			c.c.StartMember()
		}()
	} else {
		c.startMember()
	}
	if err := c.nodes.selfCollision(); err != nil {
		return err
	}
	s.log.Info("cluster: joined", "cluster", cfg.Name, "node", cfg.Node, "number", s.node,
		"address", c.address, "provider", cfg.Provider, "member", c.memberID)
	return nil
}

// startMember is protoactor-go's Cluster.StartMember without its gossip:
// at the pinned version the gossip actor mutates its state while the
// remote marshals it, and blocks members from its goroutine while the
// MemberList reads the block list without a lock (data races both).
// tern's membership is its provider's alone, so the gossip has nothing to
// add. Nor the second of sleep StartMember ends with.
func (c *clusterState) startMember() {
	cl := c.c
	cl.Remote = remote.NewRemote(c.sys.as, cl.Config.RemoteConfig)
	// Remote.Start sets the process registry's address, which every
	// spawn reads: no spawn runs meanwhile.
	c.sys.spawnMu.Lock()
	func() {
		defer c.sys.spawnMu.Unlock()
		cl.Remote.Start()
	}()
	cl.IdentityLookup = cl.Config.IdentityLookup
	cl.IdentityLookup.Setup(cl, []string{c.kind}, false)
	if err := cl.Config.ClusterProvider.StartMember(cl); err != nil {
		panic(err)
	}
}

// checkCluster checks the config before anything starts, and fills in
// what it derives: every error names its config key.
func (s *System) checkCluster(cfg *ClusterConfig) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("actor: cluster: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if cfg.Node == "" {
		return bad("cluster.node", "missing: this node's name")
	}
	if cfg.Name == "" {
		cfg.Name = "tern"
	}
	if cfg.Listen == "" {
		return bad("cluster.listen", "missing: the host:port node %s listens on", cfg.Node)
	}
	if _, _, err := splitHostPort(cfg.Listen); err != nil {
		return bad("cluster.listen", "%q: %v", cfg.Listen, err)
	}
	if cfg.Advertise == "" {
		cfg.Advertise = cfg.Listen
	}
	if _, p, err := splitHostPort(cfg.Advertise); err != nil || p == 0 {
		return bad("cluster.advertise", "%q: want host:port with a port", cfg.Advertise)
	}
	if s.node == 0 {
		return bad("node", "the System was made with Options.Node 0 (standalone); node %s needs its number", cfg.Node)
	}
	switch cfg.Provider {
	case "static":
		return s.checkStatic(cfg)
	case "etcd":
		if len(cfg.Etcd) == 0 {
			return bad("cluster.etcd.endpoints", "missing: the etcd provider needs at least one endpoint")
		}
	case "consul":
	case "automanaged":
		return bad("cluster.provider", `"automanaged" is not supported: it needs an extra HTTP port per node; use "static" for a fixed list`)
	case "":
		return bad("cluster.provider", `missing: one of "static", "etcd", "consul"`)
	default:
		return bad("cluster.provider", `unknown provider %q: want "static", "etcd" or "consul"`, cfg.Provider)
	}
	// A node found through etcd or consul announces its own number
	// (Options.Node): NodeNumber(Node), or one its config gives it.
	return nil
}

func (s *System) checkStatic(cfg *ClusterConfig) error {
	if len(cfg.Members) == 0 {
		return fmt.Errorf("actor: cluster: cluster.members: missing: the static provider needs every node, %s included", cfg.Node)
	}
	names := map[string]bool{}
	numbers := map[uint16]string{}
	self := false
	for i, m := range cfg.Members {
		key := fmt.Sprintf("cluster.members[%d]", i+1)
		if m.Node == "" {
			return fmt.Errorf("actor: cluster: %s.node: missing", key)
		}
		if _, p, err := splitHostPort(m.Address); err != nil || p == 0 {
			return fmt.Errorf("actor: cluster: %s.address: %q (node %s): want host:port", key, m.Address, m.Node)
		}
		if names[m.Node] {
			return fmt.Errorf("actor: cluster: %s.node: %s is listed twice", key, m.Node)
		}
		names[m.Node] = true
		n := memberNumber(m)
		if other, ok := numbers[n]; ok {
			return fmt.Errorf("actor: cluster: %s: nodes %s and %s have the same number %d; give one an id", key, other, m.Node, n)
		}
		numbers[n] = m.Node
		if m.Node == cfg.Node {
			self = true
			if n != s.node {
				return fmt.Errorf("actor: cluster: %s: node %s's number is %d, but the System was made with Options.Node %d", key, m.Node, n, s.node)
			}
			if m.Address != cfg.Advertise {
				return fmt.Errorf("actor: cluster: %s.address: node %s is listed at %s but advertises %s (cluster.advertise or cluster.listen): they must be the same", key, m.Node, m.Address, cfg.Advertise)
			}
		}
	}
	if !self {
		return fmt.Errorf("actor: cluster: cluster.members: this node, %s, is not in the list", cfg.Node)
	}
	return nil
}

// memberNumber is a static member's number: its ID, or its name's.
func memberNumber(m ClusterMember) uint16 {
	if m.ID != 0 {
		return m.ID
	}
	return NodeNumber(m.Node)
}

func (c *clusterState) newProvider() (pc.ClusterProvider, error) {
	switch c.cfg.Provider {
	case "static":
		c.static = newStaticProvider(c)
		return c.static, nil
	case "etcd":
		return newEtcdProvider(c)
	case "consul":
		return newConsulProvider(c)
	}
	return nil, fmt.Errorf("actor: cluster: cluster.provider: unknown provider %q", c.cfg.Provider)
}

// subscribe follows the topology, the transport's losses and its lost
// connections on the ActorSystem's event stream.
func (c *clusterState) subscribe() {
	es := c.sys.as.EventStream
	c.subs = append(c.subs,
		es.SubscribeWithPredicate(func(ev any) { c.nodes.topology(ev.(*pc.ClusterTopology)) },
			func(ev any) bool { _, ok := ev.(*pc.ClusterTopology); return ok }),
		es.SubscribeWithPredicate(func(ev any) { c.deadLetter(ev.(*pa.DeadLetterEvent)) },
			func(ev any) bool { _, ok := ev.(*pa.DeadLetterEvent); return ok }),
		es.SubscribeWithPredicate(func(ev any) {
			if c.static != nil {
				c.static.lost(ev.(*remote.EndpointTerminatedEvent).Address)
			}
		}, func(ev any) bool { _, ok := ev.(*remote.EndpointTerminatedEvent); return ok }),
	)
}

// LeaveCluster leaves the cluster (the provider deregisters this node)
// and stops the remote, within ctx. Calls still waiting on other nodes
// fail. Safe to call when not in a cluster.
func (s *System) LeaveCluster(ctx context.Context) error {
	h := &s.cluster
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.Load()
	if c == nil || c.left.Load() {
		return nil
	}
	err := c.stop(ctx, "this node left the cluster", true)
	s.log.Info("cluster: left", "cluster", c.cfg.Name, "node", c.cfg.Node)
	return err
}

// stop is the leave: the provider deregisters this node (graceful), the
// waiting calls fail, then protoactor's cluster parts and the remote stop.
// protoactor-go's Cluster.Shutdown is not used: it shuts the whole
// ActorSystem down, stops a gossip tern does not start (startMember), and
// sleeps two seconds for grain handovers tern has none of.
func (c *clusterState) stop(ctx context.Context, why string, graceful bool) error {
	c.left.Store(true)
	c.leaveCtx = ctx
	var errs []error
	started := c.c != nil && c.c.Remote != nil
	if started {
		if err := c.provider.Shutdown(graceful); err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", c.cfg.Provider, err))
		}
	} else if c.static != nil {
		c.static.Shutdown(false)
	}
	c.calls.close(why)
	c.nodes.allDown(why)
	if started {
		if c.c.IdentityLookup != nil {
			c.c.IdentityLookup.Shutdown()
		}
		c.c.Gossip.Shutdown() // started only for consul (usesGossip)
		c.stopRemote()
	}
	for _, sub := range c.subs {
		c.sys.as.EventStream.Unsubscribe(sub)
	}
	c.sys.as.ProcessRegistry.Remove(c.sys.as.NewLocalPID(ternPID))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("actor: cluster: node %s: leave: %w", c.cfg.Node, err)
	}
	return nil
}

// stopRemote stops the remote: its gRPC server at once (the provider has
// told the other nodes already), then its connections to them, each after
// the envelopes queued on it. Remote.Shutdown(true) is not used: at the
// pinned protoactor-go it races its own readers (endpointReader.suspended)
// and its event handlers (endpointManager.connections set to nil under
// them), and it waits ten seconds for a peer that keeps its stream open.
func (c *clusterState) stopRemote() {
	c.c.Remote.Shutdown(false)
	es := c.sys.as.EventStream
	for _, n := range c.nodes.list()[1:] {
		es.Publish(&remote.EndpointTerminatedEvent{Address: n.Address})
	}
}

// updateTopology hands the members the provider sees to the MemberList.
func (c *clusterState) updateTopology(members []*pc.Member) {
	c.blockMu.Lock()
	defer c.blockMu.Unlock()
	c.c.MemberList.UpdateClusterTopology(members)
}

// deadLetter counts an envelope the transport could not deliver, and
// fails the call it carried at once.
func (c *clusterState) deadLetter(ev *pa.DeadLetterEvent) {
	env, ok := ev.Message.(*pb.Envelope)
	if !ok {
		return
	}
	to := Addr(env.To)
	if p := c.peer(to.Node()); p != nil {
		p.dropped.Add(1)
	}
	if env.Session != 0 && (env.Kind == pb.Kind_KIND_CALL || env.Kind == pb.Kind_KIND_CONTROL) {
		caller := Addr(env.From)
		if caller.Node() == c.sys.node && c.calls.take(caller, env.Session) {
			c.calls.fail(caller, env.Session, to, env.Cmd, fmt.Errorf("%w: %s: the transport dropped the call", ErrNodeDown, c.nodeName(to.Node())))
		}
	}
}

// NodeOf is the number of the node named name, if the cluster knows it
// (configured or seen as a member), and whether it is up.
func (s *System) NodeOf(name string) (number uint16, up bool, ok bool) {
	c := s.cluster.Load()
	if c == nil {
		return 0, false, false
	}
	return c.nodes.byName(name)
}

// Nodes lists the cluster's nodes, this one first; nil when not in a
// cluster.
func (s *System) Nodes() []NodeInfo {
	c := s.cluster.Load()
	if c == nil {
		return nil
	}
	return c.nodes.list()
}

// OnNode registers fn to run when a node joins (up) or leaves the
// cluster. It runs on the cluster's goroutine: it must not block.
func (s *System) OnNode(fn func(n NodeInfo, up bool)) {
	h := &s.cluster
	h.hooksMu.Lock()
	h.hooks = append(h.hooks, fn)
	h.hooksMu.Unlock()
}

func (s *System) nodeHooks() []func(NodeInfo, bool) {
	h := &s.cluster
	h.hooksMu.Lock()
	defer h.hooksMu.Unlock()
	return h.hooks
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}
