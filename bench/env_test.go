package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests and
// benchmarks: every workload must stop all it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is one tern node: an actor system and a Lua runtime whose search
// path finds the scripts in bench/ (the shared helper services) and in
// bench/testdata/ (the Go benchmarks' fixtures).
type env struct {
	tb  testing.TB
	sys *actor.System
	rt  *lua.Runtime
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	sys := actor.NewSystem(actor.Options{}) // logs are discarded
	e := &env{tb: tb, sys: sys, rt: lua.New(sys, lua.Config{Path: []string{"./?.lua", "testdata/?.lua"}})}
	return e
}

// close stops every service and waits for them (and the timer queue) to
// finish. Benchmarks call it with the timer stopped.
func (e *env) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sys.Close(ctx); err != nil {
		e.tb.Fatalf("close: %v", err)
	}
}

func (e *env) launch(script string, args ...any) actor.Addr {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := e.rt.Launch(ctx, script, args...)
	if err != nil {
		e.tb.Fatalf("launch %s: %v", script, err)
	}
	return a
}

func (e *env) spawn(name string, svc actor.Service) actor.Addr {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := e.sys.Launch(ctx, svc, actor.SpawnOptions{Name: name})
	if err != nil {
		e.tb.Fatalf("spawn %s: %v", name, err)
	}
	return a
}

func (e *env) call(to actor.Addr, cmd string, args ...any) []any {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := e.sys.Call(ctx, to, cmd, args...)
	if err != nil {
		e.tb.Fatalf("call %s: %v", cmd, err)
	}
	return res
}

// perSecond reports how many ops the benchmark did per second of timed
// run, under unit (calls/s, msgs/s, services/s).
func perSecond(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}

// rssBytes is the process's resident set size, from /proc (0 elsewhere).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
