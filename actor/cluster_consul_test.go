package actor_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// TestClusterConsul: two nodes find each other through a consul agent.
// It skips, saying so, when no agent answers (CONSUL_HTTP_ADDR, or
// 127.0.0.1:8500): consul is not packaged here.
func TestClusterConsul(t *testing.T) {
	agent := os.Getenv("CONSUL_HTTP_ADDR")
	if agent == "" {
		agent = "127.0.0.1:8500"
	}
	agent = strings.TrimPrefix(strings.TrimPrefix(agent, "http://"), "https://")
	c, err := net.DialTimeout("tcp", agent, time.Second)
	if err != nil {
		t.Skipf("no consul agent at %s (%v): the consul provider is not tested", agent, err)
	}
	c.Close()
	severalNodes(t)
	addrs := testutil.FreeAddrs(t, 2)
	start := func(name, listen string) *node {
		n := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber(name), Logger: testLogger()}), name: name}
		if err := n.StartCluster(actor.ClusterConfig{Name: "terntest", Node: name, Listen: listen, Provider: "consul", Consul: agent}); err != nil {
			n.Close(context.Background())
			t.Fatal(err)
		}
		t.Cleanup(func() { n.stop(t) })
		return n
	}
	n1, n2 := start("node1", addrs[0]), start("node2", addrs[1])
	waitUp(t, n1, "node2")
	waitUp(t, n2, "node1")
	add, _ := n2.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	if res, err := n1.Call(context.Background(), add, "add", 1, 2); err != nil || res[0] != int64(3) {
		t.Fatalf("node1 → node2: %v %v", res, err)
	}
}
