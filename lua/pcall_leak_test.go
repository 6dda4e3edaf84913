package lua

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// Every pooled coroutine is reclaimed: 30,000 requests that yield inside
// pcall outside a coroutine (which used to kill the task and leak its pcall
// coroutine, about 4 KB each), and generators abandoned while suspended
// inside pcall, leave no more live pooled coroutines than the pools hold.
func TestPcallYieldLeaksNothing(t *testing.T) {
	var made, live atomic.Int64
	testHookNewCo = func(th *glua.LState) {
		made.Add(1)
		live.Add(1)
		runtime.AddCleanup(th, func(*atomic.Int64) { live.Add(-1) }, &live)
	}
	sys := actor.NewSystem(actor.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sys.Close(ctx)
		testHookNewCo = nil
	})
	rt := New(sys, Config{Path: []string{"testdata/?.lua"}})
	launch := func() actor.Addr {
		a, err := rt.Launch(t.Context(), "pcall_identity")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	driver, target := launch(), launch()
	for _, run := range []struct {
		cmd string
		n   int
	}{{"yield_request", 30000}, {"abandon", 3000}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := sys.Call(ctx, driver, "drive", target, run.cmd, run.n)
		cancel()
		if err != nil || res[0] != int64(run.n) {
			t.Errorf("%d %s requests: %v answered right, %v", run.n, run.cmd, res, err)
		}
	}
	// Each VM holds at most 32 idle tasks and 32 idle pcall coroutines.
	const most = 2 * (32 + 32)
	deadline := time.Now().Add(10 * time.Second)
	for live.Load() > most && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
	}
	if n := live.Load(); n > most {
		t.Fatalf("%d pooled coroutines live after the requests (%d made), want at most %d", n, made.Load(), most)
	}
	t.Logf("%d pooled coroutines made, %d live", made.Load(), live.Load())
}
