package actor_test

import (
	"context"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

// TestClusterLeavesNoGoroutines: once both nodes left and closed, the
// remote's and the cluster's goroutines are gone.
func TestClusterLeavesNoGoroutines(t *testing.T) {
	severalNodes(t)
	base := goleak.IgnoreCurrent()
	members := staticMembers(testutil.FreeAddrs(t, 2))
	n1 := startNode(t, "node1", members, 2*time.Second)
	n2 := startNode(t, "node2", members, 2*time.Second)
	waitUp(t, n1, "node2")
	waitUp(t, n2, "node1")
	add, err := n2.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := n1.Call(context.Background(), add, "add", i, 1); err != nil {
			t.Fatal(err)
		}
	}
	n2.stop(t)
	n1.stop(t)
	noLeaks(t, base)
}

// noLeaks waits until the goroutines are those of base again.
func noLeaks(t *testing.T, base goleak.Option) {
	t.Helper()
	var err2 error
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err2 = goleak.Find(base); err2 == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err2 != nil {
		t.Fatal(err2)
	}
}
