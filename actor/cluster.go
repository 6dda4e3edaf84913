package actor

import (
	"context"
	"errors"
	"hash/fnv"
	"time"
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
	// list), "etcd" (Etcd), "automanaged" or "consul" (Consul).
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

// StartCluster joins the cluster: it starts the remote listener and the
// membership provider. The System must have been made with Options.Node
// equal to this node's number. It fails when the config is wrong (naming
// the key), when two nodes' numbers collide, or when the listener can't
// be opened.
func (s *System) StartCluster(c ClusterConfig) error {
	return errors.New("actor: cluster: not built yet")
}

// LeaveCluster leaves the cluster (the provider deregisters this node)
// and stops the remote, within ctx. Calls still waiting on other nodes
// fail. Safe to call when not in a cluster.
func (s *System) LeaveCluster(ctx context.Context) error { return nil }

// NodeOf is the number of the node named name, if the cluster knows it
// (configured or seen as a member), and whether it is up.
func (s *System) NodeOf(name string) (number uint16, up bool, ok bool) { return 0, false, false }

// Nodes lists the cluster's nodes, this one first; nil when not in a
// cluster.
func (s *System) Nodes() []NodeInfo { return nil }

// OnNode registers fn to run when a node joins (up) or leaves the
// cluster. It runs on the cluster's goroutine: it must not block.
func (s *System) OnNode(fn func(n NodeInfo, up bool)) {}
