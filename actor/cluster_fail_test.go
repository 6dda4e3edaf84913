package actor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// hanger keeps every call it gets unanswered: its callers wait on the
// node, not on it.
type hanger struct{}

func (hanger) Init(*actor.Context) error              { return nil }
func (hanger) Stopped(*actor.Context)                 {}
func (hanger) Receive(*actor.Context, *actor.Message) {}

// load runs callers on from against to until stop closes; each call's
// error and duration is checked.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	bad        []string
	wg         sync.WaitGroup
}

func (l *load) run(from *node, to actor.Addr, cmd string, n int, bound time.Duration, stop chan struct{}) {
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				start := time.Now()
				_, err := from.Call(ctx, to, cmd, 1, 2)
				took := time.Since(start)
				cancel()
				switch {
				case err == nil:
					l.ok.Add(1)
				case errors.Is(err, actor.ErrNodeDown) && strings.Contains(err.Error(), "node2") && took <= bound:
					l.failed.Add(1)
				default:
					l.mu.Lock()
					l.bad = append(l.bad, err.Error()+" after "+took.String())
					l.mu.Unlock()
					return
				}
			}
		}()
	}
}

// TestClusterNodeDownAndBack kills node2 under load, both ways (a crash,
// then a leave): every caller gets ErrNodeDown naming node2 within the
// call timeout, none hangs; calls to a node that is down fail at once; a
// new node2 on the same address serves calls again.
func TestClusterNodeDownAndBack(t *testing.T) {
	const timeout = 2 * time.Second
	n1, n2, members := twoNodes(t, timeout)
	for _, crash := range []bool{true, false} {
		ctx := context.Background()
		add, err := n2.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
		if err != nil {
			t.Fatal(err)
		}
		hang, _ := n2.Launch(ctx, hanger{}, actor.SpawnOptions{Name: "hang"})
		stop := make(chan struct{})
		var l load
		bound := timeout + time.Second // the timer's tick, and a loaded machine
		l.run(n1, add, "add", 8, bound, stop)
		l.run(n1, hang, "add", 4, bound, stop)
		testutil.Eventually(t, 10*time.Second, "calls succeed", func() bool { return l.ok.Load() > 100 })
		if crash {
			n2.CrashClusterForTest()
		} else {
			n2.stop(t)
		}
		testutil.Eventually(t, 20*time.Second, "node1 sees node2 down", func() bool {
			_, up, _ := n1.NodeOf("node2")
			return !up
		})
		start := time.Now()
		_, err = n1.Call(ctx, add, "add", 1, 2)
		if !errors.Is(err, actor.ErrNodeDown) || !strings.Contains(err.Error(), "node2") || time.Since(start) > time.Second {
			t.Fatalf("call to node2 while down: %v after %v", err, time.Since(start))
		}
		if err := n1.Send(add, "add", 1, 2); !errors.Is(err, actor.ErrNodeDown) {
			t.Fatalf("send to node2 while down: %v", err)
		}
		close(stop)
		l.wg.Wait()
		if len(l.bad) > 0 {
			t.Fatalf("crash %v: %d calls failed badly, first: %s", crash, len(l.bad), l.bad[0])
		}
		testutil.Eventually(t, 5*time.Second, "no remote call left waiting", func() bool { return n1.PendingRemoteCallsForTest() == 0 })
		info := n1.Nodes()[1]
		if info.Up || info.Dropped == 0 || info.Failed == 0 {
			t.Fatalf("node2's counters on node1: %+v", info)
		}
		t.Logf("crash %v: %d calls answered, %d failed for the node; node2 on node1: %+v", crash, l.ok.Load(), l.failed.Load(), info)
		n2.stop(t)

		// A new incarnation of node2, same name and address.
		n2 = startNode(t, "node2", members, timeout)
		waitUp(t, n1, "node2")
		add, err = n2.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := n1.Call(ctx, add, "add", 20, 22)
		if err != nil || res[0] != int64(42) {
			t.Fatalf("call to node2 back: %v %v", res, err)
		}
	}
}

// TestClusterTransportDropFailsCall: a call made just as node2's listener
// went away fails well before the call timeout, not at it: the lost
// connection makes the static provider probe at once (a refused dial
// counts as no answer), or the transport's dead letter fails the call.
func TestClusterTransportDropFailsCall(t *testing.T) {
	const timeout = 20 * time.Second
	n1, n2, _ := twoNodes(t, timeout)
	add, err := n2.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Call(context.Background(), add, "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	n2.CrashClusterForTest()
	start := time.Now()
	_, err = n1.Call(context.Background(), add, "add", 1, 2)
	took := time.Since(start)
	if !errors.Is(err, actor.ErrNodeDown) || took > timeout/2 {
		t.Fatalf("call to a node whose listener is gone: %v after %v", err, took)
	}
	t.Logf("failed after %v: %v", took, err)
}

// TestClusterDeadLetterFailsCall: a call envelope the transport reports
// as a dead letter fails its caller at once, and counts as dropped.
func TestClusterDeadLetterFailsCall(t *testing.T) {
	n1, n2, _ := twoNodes(t, 20*time.Second)
	hang, _ := n2.Launch(context.Background(), hanger{}, actor.SpawnOptions{Name: "hang"})
	errc := make(chan error, 1)
	go func() {
		_, err := n1.Call(context.Background(), hang, "add", 1, 2)
		errc <- err
	}()
	testutil.Eventually(t, 10*time.Second, "the call waits", func() bool { return n1.PendingRemoteCallsForTest() == 1 })
	if n := n1.DeadLetterPendingForTest(); n != 1 {
		t.Fatalf("%d calls dead-lettered", n)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, actor.ErrNodeDown) || !strings.Contains(err.Error(), "node2") || !strings.Contains(err.Error(), "dropped") {
			t.Fatalf("dead-lettered call: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the dead-lettered call still waits")
	}
	if info := n1.Nodes()[1]; info.Dropped != 1 || info.Failed != 1 {
		t.Fatalf("node2 on node1: %+v", info)
	}
}
