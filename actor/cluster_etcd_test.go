package actor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

func startEtcdNode(t *testing.T, name, listen, endpoint string, number uint16) (*node, error) {
	t.Helper()
	n := &node{System: actor.NewSystem(actor.Options{Node: number, Logger: testLogger().With("node", name)}), name: name}
	cfg := actor.ClusterConfig{Name: "etcdtest", Node: name, Listen: listen, Provider: "etcd", Etcd: []string{endpoint}, CallTimeout: 2 * time.Second}
	if err := n.StartCluster(cfg); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	t.Cleanup(func() { n.stop(t) })
	return n, nil
}

// TestClusterEtcd: two nodes find each other through a real etcd, call
// each other, see a leave and a crash (its lease expires), see a new
// incarnation join, and a node whose number is taken is refused.
func TestClusterEtcd(t *testing.T) {
	severalNodes(t)
	endpoint := testutil.StartEtcd(t, "tern-test")
	base := goleak.IgnoreCurrent()
	addrs := testutil.FreeAddrs(t, 3)
	n1, err := startEtcdNode(t, "node1", addrs[0], endpoint, actor.NodeNumber("node1"))
	if err != nil {
		t.Fatal(err)
	}
	n2, err := startEtcdNode(t, "node2", addrs[1], endpoint, actor.NodeNumber("node2"))
	if err != nil {
		t.Fatal(err)
	}
	waitUp(t, n1, "node2")
	waitUp(t, n2, "node1")
	ctx := context.Background()
	add, _ := n2.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if res, err := n1.Call(ctx, add, "add", 1, 2); err != nil || res[0] != int64(3) {
		t.Fatalf("node1 → node2: %v %v", res, err)
	}
	add1, _ := n1.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if res, err := n2.Call(ctx, add1, "add", 3, 4); err != nil || res[0] != int64(7) {
		t.Fatalf("node2 → node1: %v %v", res, err)
	}

	// A node whose number is node2's is refused at its start.
	_, err = startEtcdNode(t, "node3", addrs[2], endpoint, actor.NodeNumber("node2"))
	if err == nil || !strings.Contains(err.Error(), "node2") || !strings.Contains(err.Error(), "node3") {
		t.Fatalf("node3 with node2's number: %v", err)
	}

	// A leave is seen at once; a crash when the lease expires.
	for _, crash := range []bool{false, true} {
		start := time.Now()
		if crash {
			n2.CrashClusterForTest()
		} else {
			n2.stop(t)
		}
		testutil.Eventually(t, 15*time.Second, fmt.Sprintf("node1 sees node2 down (crash %v)", crash), func() bool {
			_, up, _ := n1.NodeOf("node2")
			return !up
		})
		t.Logf("crash %v: node2 down on node1 after %v", crash, time.Since(start))
		n2.stop(t)
		n2, err = startEtcdNode(t, "node2", addrs[1], endpoint, actor.NodeNumber("node2"))
		if err != nil {
			t.Fatal(err)
		}
		waitUp(t, n1, "node2")
		add, _ = n2.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
		if res, err := n1.Call(ctx, add, "add", 5, 6); err != nil || res[0] != int64(11) {
			t.Fatalf("node1 → node2 back: %v %v", res, err)
		}
	}
	n2.stop(t)
	n1.stop(t)
	noLeaks(t, base) // the etcd clients are closed
}
