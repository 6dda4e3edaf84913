package actor_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// TestClusterConfigErrors: a bad config fails StartCluster before
// anything starts, with an error that names the key (and the nodes).
func TestClusterConfigErrors(t *testing.T) {
	n1 := actor.NodeNumber("node1")
	two := []actor.ClusterMember{{Node: "node1", Address: "127.0.0.1:7701"}, {Node: "node2", Address: "127.0.0.1:7702"}}
	for _, c := range []struct {
		name string
		node uint16
		cfg  actor.ClusterConfig
		want []string
	}{
		{"no node", n1, actor.ClusterConfig{Listen: "127.0.0.1:7701", Provider: "static", Members: two}, []string{"cluster.node"}},
		{"no listen", n1, actor.ClusterConfig{Node: "node1", Provider: "static", Members: two}, []string{"cluster.listen"}},
		{"bad listen", n1, actor.ClusterConfig{Node: "node1", Listen: "7701", Provider: "static", Members: two}, []string{"cluster.listen"}},
		{"no provider", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Members: two}, []string{"cluster.provider"}},
		{"unknown provider", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "zk"}, []string{"cluster.provider", "zk"}},
		{"automanaged", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "automanaged"}, []string{"cluster.provider", "automanaged"}},
		{"standalone system", 0, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static", Members: two}, []string{"Options.Node"}},
		{"no members", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static"}, []string{"cluster.members"}},
		{"self not listed", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static", Members: two[1:]}, []string{"cluster.members", "node1"}},
		{"self listed elsewhere", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7709", Provider: "static", Members: two}, []string{"cluster.members[1].address", "127.0.0.1:7709"}},
		{"wrong number", n1 + 1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static", Members: two}, []string{"node1", "Options.Node"}},
		{"listed twice", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static", Members: append(two, two[1])}, []string{"cluster.members[3].node", "node2"}},
		{"collision", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "static", Members: []actor.ClusterMember{
			two[0], {Node: "node2", Address: "127.0.0.1:7702", ID: 7}, {Node: "node3", Address: "127.0.0.1:7703", ID: 7},
		}}, []string{"cluster.members[3]", "node2", "node3", "same number 7"}},
		{"etcd without endpoints", n1, actor.ClusterConfig{Node: "node1", Listen: "127.0.0.1:7701", Provider: "etcd"}, []string{"cluster.etcd.endpoints"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := actor.NewSystem(actor.Options{Node: c.node})
			defer s.Close(context.Background())
			err := s.StartCluster(c.cfg)
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if s.Nodes() != nil {
				t.Errorf("in a cluster after a failed start: %v", s.Nodes())
			}
		})
	}
}

// TestClusterRefusesCollidingMember: a node whose number is another's
// is refused when it shows up, and the others work on.
func TestClusterRefusesCollidingMember(t *testing.T) {
	severalNodes(t)
	addrs := testutil.FreeAddrs(t, 3)
	members := staticMembers(addrs)
	n1 := startNode(t, "node1", members, 2*time.Second)
	n2 := startNode(t, "node2", members, 2*time.Second)
	waitUp(t, n1, "node2")
	// node3 believes its number is node2's.
	rogue := []actor.ClusterMember{members[0], {Node: "node3", Address: addrs[2], ID: actor.NodeNumber("node2")}}
	n3 := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber("node2"), Logger: testLogger()}), name: "node3"}
	if err := n3.StartCluster(actor.ClusterConfig{Node: "node3", Listen: addrs[2], Provider: "static", Members: rogue}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n3.stop(t) })
	testutil.Eventually(t, 10*time.Second, "node3 sees node1", func() bool { _, up, _ := n3.NodeOf("node1"); return up })
	if _, up, _ := n1.NodeOf("node3"); up {
		t.Fatal("node1 took node3 in, whose number is node2's")
	}
	add, _ := n2.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	if res, err := n1.Call(context.Background(), add, "add", 1, 2); err != nil || res[0] != int64(3) {
		t.Fatalf("node1 → node2: %v %v", res, err)
	}
}

// TestClusterListenTakenThenFree: a start that fails on a taken address
// names it, and the same System starts once the address is free.
func TestClusterListenTakenThenFree(t *testing.T) {
	severalNodes(t) // a remote of its own in this process
	addr := testutil.FreeAddrs(t, 1)[0]
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber("node1"), Logger: testLogger()}), name: "node1"}
	t.Cleanup(func() { n.stop(t) })
	cfg := actor.ClusterConfig{Node: "node1", Listen: addr, Provider: "static", Members: []actor.ClusterMember{{Node: "node1", Address: addr}}}
	if err := n.StartCluster(cfg); err == nil || !strings.Contains(err.Error(), "cluster.listen") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("start on a taken address: %v", err)
	}
	ln.Close()
	if err := n.StartCluster(cfg); err != nil {
		t.Fatalf("start once the address is free: %v", err)
	}
	if nodes := n.Nodes(); len(nodes) != 1 || !nodes[0].Up {
		t.Fatalf("nodes: %+v", nodes)
	}
}
