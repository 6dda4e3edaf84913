package actor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
)

// staticMembers lists nodes node1..nodeN at addrs.
func staticMembers(addrs []string) []actor.ClusterMember {
	ms := make([]actor.ClusterMember, len(addrs))
	for i, a := range addrs {
		ms[i] = actor.ClusterMember{Node: fmt.Sprintf("node%d", i+1), Address: a}
	}
	return ms
}

func testLogger() *slog.Logger {
	if os.Getenv("TERN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// node is one in-process node of a test cluster.
type node struct {
	*actor.System
	name string
	once sync.Once
}

// stop leaves the cluster and closes the System, once.
func (n *node) stop(t testing.TB) {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := n.LeaveCluster(ctx); err != nil {
			t.Errorf("%s: leave: %v", n.name, err)
		}
		if err := n.Close(ctx); err != nil {
			t.Errorf("%s: close: %v", n.name, err)
		}
	})
}

// severalNodes skips a test that runs several nodes in this process
// under the race detector: protoactor-go's Remote.Start sets grpc's
// process-global logger (grpclog.SetLoggerV2) each time, unsynchronised,
// while the gRPC goroutines of the nodes already running read it. One node
// per process, as in production, has no such race; `go test ./actor/`
// runs these tests.
func severalNodes(t testing.TB) {
	t.Helper()
	if raceEnabled {
		t.Skip("several nodes in one process race on grpclog's global logger (protoactor-go's Remote.Start sets it); run without -race")
	}
}

// startNode starts node name of a static cluster.
func startNode(t testing.TB, name string, members []actor.ClusterMember, timeout time.Duration) *node {
	t.Helper()
	cfg := actor.ClusterConfig{Name: "test", Node: name, Provider: "static", Members: members, CallTimeout: timeout}
	for _, m := range members {
		if m.Node == name {
			cfg.Listen = m.Address
		}
	}
	n := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber(name), Logger: testLogger().With("node", name)}), name: name}
	if err := n.StartCluster(cfg); err != nil {
		n.Close(context.Background())
		t.Fatalf("%s: start cluster: %v", name, err)
	}
	t.Cleanup(func() { n.stop(t) })
	return n
}

// waitUp waits until n sees every other node of names up.
func waitUp(t testing.TB, n *node, names ...string) {
	t.Helper()
	for _, name := range names {
		testutil.Eventually(t, 20*time.Second, n.name+" sees "+name+" up", func() bool {
			_, up, _ := n.NodeOf(name)
			return up
		})
	}
}

// relay is a service that calls the address it is given and answers with
// the result: service-to-service calls, and addresses passed in messages.
type relay struct{}

func (relay) Init(*actor.Context) error { return nil }
func (relay) Stopped(*actor.Context)    {}
func (relay) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind != actor.Call {
		return
	}
	from, session := m.From, m.Session
	args, err := pack.DecodeValues(m.Data)
	if err != nil || len(args) < 2 {
		c.Fail(from, session, fmt.Errorf("relay: bad args %v %v", args, err))
		return
	}
	to := actor.Addr(args[0].(int64))
	c.Call(to, args[1].(string), args[2:], func(res []any, err error) {
		if err != nil {
			c.Fail(from, session, err)
			return
		}
		c.Reply(from, session, res...)
	})
}

func twoNodes(t *testing.T, timeout time.Duration) (n1, n2 *node, members []actor.ClusterMember) {
	t.Helper()
	severalNodes(t)
	members = staticMembers(testutil.FreeAddrs(t, 2))
	n1 = startNode(t, "node1", members, timeout)
	n2 = startNode(t, "node2", members, timeout)
	waitUp(t, n1, "node2")
	waitUp(t, n2, "node1")
	return n1, n2, members
}

func TestClusterCallsBothWays(t *testing.T) {
	n1, n2, _ := twoNodes(t, 5*time.Second)
	ctx := context.Background()
	add2, err := n2.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	add1, err := n1.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	relay1, _ := n1.Launch(ctx, relay{}, actor.SpawnOptions{Name: "relay"})
	relay2, _ := n2.Launch(ctx, relay{}, actor.SpawnOptions{Name: "relay"})
	if add2.Node() != actor.NodeNumber("node2") || add1.Node() != actor.NodeNumber("node1") {
		t.Fatalf("addresses %v %v: want their node's number", add1, add2)
	}

	// Go code outside any service, to a service on the other node.
	res, err := n1.Call(ctx, add2, "add", 2, 3)
	if err != nil || res[0] != int64(5) {
		t.Fatalf("node1 → node2 add: %v %v", res, err)
	}
	res, err = n2.Call(ctx, add1, "add", 4, 5)
	if err != nil || res[0] != int64(9) {
		t.Fatalf("node2 → node1 add: %v %v", res, err)
	}
	// Service to service, both ways, with the address to call passed in
	// the message: node1's relay calls node2's adder; node2's relay calls
	// node1's adder; and node1's relay calls node2's relay which calls back
	// node1's adder.
	for _, c := range []struct {
		sys  *node
		via  actor.Addr
		args []any
		want int64
	}{
		{n1, relay1, []any{add2, "add", 1, 1}, 2},
		{n1, relay2, []any{add1, "add", 2, 2}, 4},
		{n2, relay1, []any{relay2, "relay", add1, "add", 3, 3}, 6},
	} {
		res, err := c.sys.Call(ctx, c.via, "relay", c.args...)
		if err != nil || len(res) != 1 || res[0] != c.want {
			t.Fatalf("relay %v: %v %v, want %d", c.args, res, err, c.want)
		}
	}

	// Errors keep their kind and name the remote service.
	if _, err := n1.Call(ctx, add2, "nope"); !errors.Is(err, actor.ErrNoCommand) || !strings.Contains(err.Error(), add2.String()) {
		t.Fatalf("unknown command on node2: %v", err)
	}
	if _, err := n1.Call(ctx, add2, "boom"); !errors.Is(err, actor.ErrRemote) || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("raising handler on node2: %v", err)
	}
	gone := actor.MakeAddr(add2.Node(), 9999)
	if _, err := n1.Call(ctx, gone, "add", 1, 2); !errors.Is(err, actor.ErrNoService) {
		t.Fatalf("no service on node2: %v", err)
	}
	if _, err := n1.Call(ctx, relay1, "relay", gone, "add", 1, 2); !errors.Is(err, actor.ErrNoService) {
		t.Fatalf("no service on node2, from a service: %v", err)
	}
	nowhere := actor.MakeAddr(actor.NodeNumber("node9"), 1)
	if _, err := n1.Call(ctx, nowhere, "add", 1, 2); !errors.Is(err, actor.ErrNodeDown) {
		t.Fatalf("unknown node: %v", err)
	}

	nodes := n1.Nodes()
	if len(nodes) != 2 || !nodes[0].Self || nodes[0].Name != "node1" || nodes[1].Name != "node2" || !nodes[1].Up || nodes[1].Sent == 0 || nodes[1].Received == 0 {
		t.Fatalf("node1's nodes: %+v", nodes)
	}
}

// collector counts "push" sends and checks they come in order.
func collector(count *atomic.Int64, disorder *atomic.Int64) actor.Handlers {
	return actor.Handlers{
		"push": func(c *actor.Context, args []any) ([]any, error) {
			if args[0].(int64) != count.Load() {
				disorder.Add(1)
			}
			count.Add(1)
			return nil, nil
		},
	}
}

func TestClusterSendsInOrder(t *testing.T) {
	n1, n2, _ := twoNodes(t, 5*time.Second)
	ctx := context.Background()
	var count, disorder atomic.Int64
	coll, err := n2.Launch(ctx, collector(&count, &disorder), actor.SpawnOptions{Name: "collector"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	for i := range n {
		if err := n1.Send(coll, "push", i); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	testutil.Eventually(t, 30*time.Second, "10000 sends arrive", func() bool { return count.Load() == n })
	if d := disorder.Load(); d != 0 {
		t.Fatalf("%d sends out of order", d)
	}
	if info := n1.Nodes()[1]; info.Sent < n || info.Dropped != 0 {
		t.Fatalf("node1's counters for node2: %+v", info)
	}
}

// forwarder passes every call on to `to`, unchanged (Context.Forward).
type forwarder struct{ to actor.Addr }

func (forwarder) Init(*actor.Context) error { return nil }
func (forwarder) Stopped(*actor.Context)    {}
func (f forwarder) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind == actor.Call {
		c.Keep()
		c.Forward(f.to, m)
	}
}

// TestClusterCallForwardedBackHome: node1 calls node2, which forwards the
// call to a service on node1: the answer comes straight from node1's
// service, and the call no longer waits on node2.
func TestClusterCallForwardedBackHome(t *testing.T) {
	n1, n2, _ := twoNodes(t, 3*time.Second)
	ctx := context.Background()
	add1, _ := n1.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	fwd2, _ := n2.Launch(ctx, forwarder{add1}, actor.SpawnOptions{Name: "forwarder"})
	for i := range 10 {
		res, err := n1.Call(ctx, fwd2, "add", i, 1)
		if err != nil || res[0] != int64(i+1) {
			t.Fatalf("call forwarded back: %v %v", res, err)
		}
	}
	testutil.Eventually(t, 2*time.Second, "no call waits on node2", func() bool { return n1.PendingRemoteCallsForTest() == 0 })
	if info := n1.Nodes()[1]; info.Failed != 0 {
		t.Fatalf("node2 on node1: %+v", info)
	}
}
