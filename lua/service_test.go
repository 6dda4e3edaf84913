package lua_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
)

type env struct {
	sys   *actor.System
	rt    *lua.Runtime
	log   *testutil.Buffer
	close func() // stops every service; runs at cleanup too
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvPath(t, "testdata/?.lua", "testdata/lib/?.lua")
}

// newEnvPath is newEnv with its own search path.
func newEnvPath(t testing.TB, path ...string) *env {
	t.Helper()
	return newEnvConfig(t, lua.Config{Path: path})
}

// newEnvConfig is newEnv with its own lua.Config (Path defaults to
// newEnv's).
func newEnvConfig(t testing.TB, cfg lua.Config) *env {
	t.Helper()
	return newEnvOptions(t, actor.Options{}, cfg)
}

// newEnvOptions is newEnvConfig with its own actor.Options (the logger is
// the env's).
func newEnvOptions(t testing.TB, o actor.Options, cfg lua.Config) *env {
	t.Helper()
	if cfg.Path == nil {
		cfg.Path = []string{"testdata/?.lua", "testdata/lib/?.lua"}
	}
	log := &testutil.Buffer{}
	o.Logger = slog.New(slog.NewTextHandler(log, nil))
	sys := actor.NewSystem(o)
	rt := lua.New(sys, cfg)
	close := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	t.Cleanup(func() {
		close()
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	})
	return &env{sys: sys, rt: rt, log: log, close: close}
}

func (e *env) launch(t testing.TB, script string, args ...any) actor.Addr {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := e.rt.Launch(ctx, script, args...)
	if err != nil {
		t.Fatalf("launch %s: %v", script, err)
	}
	return a
}

func (e *env) call(t testing.TB, to actor.Addr, cmd string, args ...any) []any {
	t.Helper()
	res, err := e.try(to, cmd, args...)
	if err != nil {
		t.Fatalf("call %s: %v", cmd, err)
	}
	return res
}

func (e *env) try(to actor.Addr, cmd string, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.sys.Call(ctx, to, cmd, args...)
}

func TestEcho(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "echo")
	res := e.call(t, a, "add", 2, 40)
	if len(res) != 1 || res[0] != int64(42) {
		t.Fatalf("add: %v", res)
	}
	_, err := e.try(a, "boom", "bad thing")
	if err == nil || !strings.Contains(err.Error(), "bad thing") || !strings.Contains(err.Error(), "echo(") {
		t.Fatalf("boom: %v", err)
	}
	if !strings.Contains(e.log.String(), "stack traceback") {
		t.Fatalf("no traceback logged:\n%s", e.log.String())
	}
	_, err = e.try(a, "nosuch")
	if err == nil || !strings.Contains(err.Error(), "no such command") {
		t.Fatalf("nosuch: %v", err)
	}
	res = e.call(t, a, "echo", "x", true, 1.5)
	if len(res) != 3 || res[0] != "x" || res[1] != true || res[2] != 1.5 {
		t.Fatalf("echo: %#v", res)
	}
}

// A Lua send, from the sender's tern.send to the receiver's handler,
// allocates nothing: the message comes from the pool and goes back to
// it, and the handler's task is a pooled coroutine resumed without
// gopher-lua's slice of results.
func TestLuaSendAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	e := newEnv(t)
	recv, send := e.launch(t, "sendpin"), e.launch(t, "sendpin")
	const runs, k = 100, 1000
	mallocs := func(cmd string) uint64 {
		e.call(t, send, cmd, recv, k) // warm the pools
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			e.call(t, send, cmd, recv, k) // the queue drains at each call
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	idle, sends := mallocs("idle"), mallocs("run")
	per := (float64(sends) - float64(idle)) / (runs * k)
	t.Logf("%.4f allocations per send", per)
	if per > 0.01 {
		t.Errorf("a Lua send allocates %.3f times, want 0 (%d allocations with the sends, %d without)", per, sends, idle)
	}
}
