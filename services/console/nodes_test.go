package console

import (
	"testing"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/root"
)

// nodes lists the cluster's nodes: this one first, up, and one that is
// configured but not running, down. Alone, it says so.
func TestNodes(t *testing.T) {
	rt, _ := startRT(t)
	cl := dial(t, startConsole(t, rt, false))
	cl.fails("nodes", "not in a cluster")
	contains(t, "help", cl.ok("help"), "nodes: the cluster's nodes")

	addrs := testutil.FreeAddrs(t, 2)
	rt, _ = roottest.Start(t, root.Config{Cluster: &actor.ClusterConfig{Node: "one", Listen: addrs[0],
		Members: []actor.ClusterMember{{Node: "one", Address: addrs[0]}, {Node: "two", Address: addrs[1], ID: 2}}}})
	cl = dial(t, startConsole(t, rt, false))
	contains(t, "nodes", cl.ok("nodes"), "node\tnumber\taddress\tup\tsent\treceived\tdropped\tfailed",
		"one (self)\t", "\t"+addrs[0]+"\ttrue\t", "two\t2\t"+addrs[1]+"\tfalse\t")
}
