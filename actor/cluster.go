package actor

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	pc "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
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
