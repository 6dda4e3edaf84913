package actor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// Two-node tests that also run under the race detector: node1 is this
// process's one node (sharedNode: protoactor-go's Remote.Start writes a
// process-global, so a process starts one remote in its life), node2 a
// child process, this test binary run again (TestMain), which can be
// killed outright. A child built with -race reports its own races on
// stderr and exits 66; the parent fails the test then.

const childEnv = "TERN_TEST_CHILD_NODE"

type childSpec struct {
	Name    string
	Members []actor.ClusterMember
	Timeout time.Duration
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// The child's services, launched in this order: their handles are known.
const (
	childAdder     = 1
	childCollector = 2
	childRelay     = 3
)

// runChild is a node in its own process: it starts, launches its
// services, says "ready", and leaves when its stdin ends.
func runChild(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber(cs.Name), Logger: testLogger()}), name: cs.Name}
	cfg := actor.ClusterConfig{Name: "test", Node: cs.Name, Provider: "static", Members: cs.Members, CallTimeout: cs.Timeout}
	for _, m := range cs.Members {
		if m.Node == cs.Name {
			cfg.Listen = m.Address
		}
	}
	if err := n.StartCluster(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	var count, disorder atomic.Int64
	counts := actor.Handlers{"counts": func(*actor.Context, []any) ([]any, error) {
		return []any{count.Load(), disorder.Load()}, nil
	}}
	coll := collector(&count, &disorder)
	coll["counts"] = counts["counts"]
	for _, svc := range []struct {
		name string
		svc  actor.Service
	}{{"adder", adder()}, {"collector", coll}, {"relay", relay{}}} {
		if _, err := n.Launch(ctx, svc.svc, actor.SpawnOptions{Name: svc.name}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := n.LeaveCluster(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	n.Close(ctx)
	return 0
}

// child is node2 in a process of its own.
type child struct {
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	stderr *strings.Builder
	done   chan struct{}
	err    error
	mu     sync.Mutex
}

func startChild(t *testing.T, spec childSpec) *child {
	t.Helper()
	js, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: c.stderr, mu: &c.mu}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		ready <- strings.TrimSpace(line) == "ready"
		r.WriteTo(os.Stdout)
	}()
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-c.done
			t.Fatalf("child %s did not start: %v\n%s", spec.Name, c.err, c.output())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child %s: not ready within 30s\n%s", spec.Name, c.output())
	}
	t.Cleanup(func() { c.stop(t) })
	return c
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// stop asks the child to leave and waits for it; a child that reported
// a race fails the test.
func (c *child) stop(t *testing.T) {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		t.Errorf("child did not leave within 20s")
	}
	c.check(t)
}

// kill ends the child outright, as a crash does.
func (c *child) kill(t *testing.T) {
	c.cmd.Process.Kill()
	<-c.done
	c.check(t)
}

func (c *child) check(t *testing.T) {
	if out := c.output(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
		t.Errorf("child node:\n%s", out)
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The shared node: node1 of a static cluster whose node2 lives at a
// reserved address, started once for the whole test binary.
var shared struct {
	once    sync.Once
	n       *node
	members []actor.ClusterMember
	err     error
}

const sharedTimeout = 2 * time.Second

func sharedNode(t *testing.T) (*node, []actor.ClusterMember) {
	t.Helper()
	shared.once.Do(func() {
		shared.members = staticMembers(testutil.FreeAddrs(t, 2))
		n := &node{System: actor.NewSystem(actor.Options{Node: actor.NodeNumber("node1"), Logger: testLogger()}), name: "node1"}
		shared.err = n.StartCluster(actor.ClusterConfig{Name: "test", Node: "node1", Listen: shared.members[0].Address,
			Provider: "static", Members: shared.members, CallTimeout: sharedTimeout})
		shared.n = n
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.n, shared.members
}

func startNode2(t *testing.T) (*node, *child) {
	t.Helper()
	n1, members := sharedNode(t)
	c := startChild(t, childSpec{Name: "node2", Members: members, Timeout: sharedTimeout})
	waitUp(t, n1, "node2")
	return n1, c
}

// TestClusterChildCallsAndOrder: calls both ways between this process and
// a node in another one (service to service, Go to service, an address
// passed along), and 10,000 sends in order.
func TestClusterChildCallsAndOrder(t *testing.T) {
	n1, _ := startNode2(t)
	ctx := context.Background()
	node2 := actor.NodeNumber("node2")
	add2, coll2, relay2 := actor.MakeAddr(node2, childAdder), actor.MakeAddr(node2, childCollector), actor.MakeAddr(node2, childRelay)
	add1, err := n1.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	defer n1.Kill(add1)
	relay1, _ := n1.Launch(ctx, relay{}, actor.SpawnOptions{Name: "relay"})
	defer n1.Kill(relay1)
	if res, err := n1.Call(ctx, add2, "add", 2, 3); err != nil || res[0] != int64(5) {
		t.Fatalf("node1 → node2: %v %v", res, err)
	}
	// node2's relay calls node1's adder: node2 → node1, an address passed.
	if res, err := n1.Call(ctx, relay2, "relay", add1, "add", 4, 5); err != nil || res[0] != int64(9) {
		t.Fatalf("node2 → node1 via node2's relay: %v %v", res, err)
	}
	// node1's relay → node2's relay → node1's adder.
	if res, err := n1.Call(ctx, relay1, "relay", relay2, "relay", add1, "add", 6, 7); err != nil || res[0] != int64(13) {
		t.Fatalf("node1 → node2 → node1: %v %v", res, err)
	}
	if _, err := n1.Call(ctx, add2, "nope"); !errors.Is(err, actor.ErrNoCommand) {
		t.Fatalf("unknown command on node2: %v", err)
	}
	const n = 10000
	for i := range n {
		if err := n1.Send(coll2, "push", i); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, 30*time.Second, "10000 sends arrive on node2", func() bool {
		res, err := n1.Call(ctx, coll2, "counts")
		return err == nil && res[0] == int64(n) && res[1] == int64(0)
	})
}

// TestClusterChildKilled: node2's process is killed under load; every
// caller gets ErrNodeDown naming node2 within the call timeout; node2
// comes back (a new process on the same address) and calls work again.
func TestClusterChildKilled(t *testing.T) {
	n1, c := startNode2(t)
	add2 := actor.MakeAddr(actor.NodeNumber("node2"), childAdder)
	stop := make(chan struct{})
	var l load
	l.run(n1, add2, "add", 8, sharedTimeout+time.Second, stop)
	testutil.Eventually(t, 10*time.Second, "calls succeed", func() bool { return l.ok.Load() > 100 })
	c.kill(t)
	testutil.Eventually(t, 20*time.Second, "node1 sees node2 down", func() bool {
		_, up, _ := n1.NodeOf("node2")
		return !up
	})
	close(stop)
	l.wg.Wait()
	if len(l.bad) > 0 {
		t.Fatalf("%d calls failed badly, first: %s", len(l.bad), l.bad[0])
	}
	testutil.Eventually(t, 5*time.Second, "no remote call left waiting", func() bool { return n1.PendingRemoteCallsForTest() == 0 })
	t.Logf("%d calls answered, %d failed for the node", l.ok.Load(), l.failed.Load())

	_, members := sharedNode(t)
	startChild(t, childSpec{Name: "node2", Members: members, Timeout: sharedTimeout})
	waitUp(t, n1, "node2")
	if res, err := n1.Call(context.Background(), add2, "add", 20, 22); err != nil || res[0] != int64(42) {
		t.Fatalf("node2 back: %v %v", res, err)
	}
}
