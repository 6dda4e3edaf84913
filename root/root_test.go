package root

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
)

// start boots a runtime on testdata/app with cfg's other fields.
func start(t *testing.T, cfg Config, setup func(*Runtime)) (*Runtime, *testutil.Buffer) {
	t.Helper()
	log := &testutil.Buffer{}
	cfg.Path = append(cfg.Path, "testdata/app/?.lua")
	cfg.LogOutput = log
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(rt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("start: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	})
	return rt, log
}

func call(t *testing.T, rt *Runtime, target any, cmd string, args ...any) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := rt.Call(ctx, target, cmd, args...)
	if err != nil {
		t.Fatalf("call %v %s: %v", target, cmd, err)
	}
	return res
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, cond)
}

func TestConcurrentFirstLookupsStartOnce(t *testing.T) {
	var goStarts atomic.Int32
	rt, log := start(t, Config{Services: map[string]names.Decl{
		"db":  {Script: "db", Args: []any{"v:"}},
		"gdb": {Script: "gdb"},
	}}, func(rt *Runtime) {
		rt.RegisterGo("gdb", func(args []any) (actor.Service, error) {
			goStarts.Add(1)
			return actor.Handlers{"get": func(c *actor.Context, a []any) ([]any, error) { return []any{"g:" + a[0].(string)}, nil }}, nil
		})
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make(chan string, 100)
	for i := 0; i < 50; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			res, err := rt.Call(ctx, "db", "get", fmt.Sprint(i))
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- res[0].(string)
		}(i)
		go func(i int) {
			defer wg.Done()
			res, err := rt.Call(ctx, "gdb", "get", fmt.Sprint(i))
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- res[0].(string)
		}(i)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if !strings.HasPrefix(r, "v:") && !strings.HasPrefix(r, "g:") {
			t.Fatal(r)
		}
	}
	if n := strings.Count(log.String(), `msg=starting`); n != 2 {
		t.Fatalf("declared services started %d times, want 2 (db and gdb once each)", n)
	}
	if goStarts.Load() != 1 {
		t.Fatalf("Go factory ran %d times", goStarts.Load())
	}
}

func TestFailedStartReachesEveryWaiterAndRetries(t *testing.T) {
	var attempts atomic.Int64
	rt, _ := start(t, Config{Services: map[string]names.Decl{"flaky": {Script: "flaky"}}}, func(rt *Runtime) {
		rt.RegisterGo("attempts", func([]any) (actor.Service, error) {
			return actor.Handlers{"next": func(*actor.Context, []any) ([]any, error) {
				return []any{attempts.Add(1)}, nil
			}}, nil
		})
	})
	// "attempts" must be reachable by name: declare it through Lua.
	namer, err := rt.lua.Launch(context.Background(), "namer")
	if err != nil {
		t.Fatal(err)
	}
	call(t, rt, namer, "declare", "attempts", "attempts")
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			_, err := rt.Call(context.Background(), "flaky", "ping")
			errs <- err
		}()
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "flaky init, attempt 1") {
			t.Fatalf("waiter %d: %v", i, err)
		}
	}
	// The next lookup starts it again, and this time it works.
	if res := call(t, rt, "flaky", "ping"); res[0] != "pong" {
		t.Fatalf("retry: %v", res)
	}
	// from Lua too, by name
	res := call(t, rt, namer, "callname", "flaky", "ping")
	if res[0] != true || res[1] != "pong" {
		t.Fatalf("Lua call by name: %#v", res)
	}
}

func TestShutdownOrderAndLogs(t *testing.T) {
	rt, log := start(t, Config{Bootstrap: "testdata/app/main.lua"}, nil)
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := rt.Wait(); code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	out := log.String()
	var order []string
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, `msg="on_shutdown `); i >= 0 && !strings.Contains(line, "done") {
			order = append(order, strings.Fields(line[i+len(`msg="on_shutdown `):])[0])
		}
	}
	if strings.Join(order, ",") != `third",second",first"` {
		t.Fatalf("on_shutdown order %v\n%s", order, out)
	}
	// logged during shutdown, and present: the logger stops last
	if !strings.Contains(out, `msg="on_shutdown done first"`) || !strings.Contains(out, "msg=stopped") {
		t.Fatalf("shutdown log lines missing:\n%s", out)
	}
}

func TestInFlightCompletesNewRequestRefused(t *testing.T) {
	rt, log := start(t, Config{Bootstrap: "testdata/app/main.lua"}, nil)
	done := make(chan []any, 1)
	go func() {
		res, err := rt.Call(context.Background(), "third", "work", 300)
		if err != nil {
			res = []any{err.Error()}
		}
		done <- res
	}()
	eventually(t, "work in flight", func() bool { return strings.Contains(log.String(), `msg="working third"`) })
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Shutdown(context.Background()) }()
	third, _ := rt.Names().Lookup("third")
	eventually(t, "third shutting down", func() bool {
		in, ok := rt.System().Info(third)
		return ok && in.State == actor.ShuttingDown
	})
	_, err := rt.Call(context.Background(), third, "name")
	if !errors.Is(err, actor.ErrShuttingDown) || !strings.Contains(err.Error(), "service is shutting down") {
		t.Fatalf("new request during shutdown: %v", err)
	}
	if res := <-done; res[0] != "done third" {
		t.Fatalf("in-flight request: %v", res)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if rt.Wait() != ExitOK {
		t.Fatal("exit code")
	}
}

func TestSlowOnShutdownMissesDeadline(t *testing.T) {
	rt, log := start(t, Config{ShutdownTimeout: 200 * time.Millisecond}, nil)
	namer, err := rt.lua.Launch(context.Background(), "stage", "sloth", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	_ = namer
	rt.Shutdown(context.Background())
	if code := rt.Wait(); code != ExitDeadline {
		t.Fatalf("exit code %d, want %d", code, ExitDeadline)
	}
	out := log.String()
	if !strings.Contains(out, "missed the shutdown deadline") || !strings.Contains(out, "name=sloth") {
		t.Fatalf("the late service is not named:\n%s", out)
	}
}

func TestNames(t *testing.T) {
	rt, _ := start(t, Config{Services: map[string]names.Decl{"db": {Script: "db", Args: []any{"x:"}}}}, nil)
	namer, err := rt.lua.Launch(context.Background(), "namer")
	if err != nil {
		t.Fatal(err)
	}
	other, err := rt.lua.Launch(context.Background(), "namer")
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, rt, namer, "register", "boss"); res[0] != true {
		t.Fatalf("register: %v", res)
	}
	res := call(t, rt, other, "register", "boss")
	if res[0] != false || !strings.Contains(res[1].(string), "name taken") {
		t.Fatalf("a second owner for a live name: %#v", res)
	}
	if res := call(t, rt, other, "query", "boss"); res[0] != true || res[1] != int64(namer) {
		t.Fatalf("query: %#v", res)
	}
	res = call(t, rt, other, "query", "nobody", 30)
	if res[0] != false || !strings.Contains(res[1].(string), "timeout") {
		t.Fatalf("query timeout: %#v", res)
	}
	res = call(t, rt, other, "callname", "nobody", "x")
	if res[0] != false || !strings.Contains(res[1].(string), `no such service: "nobody"`) {
		t.Fatalf("unknown name: %#v", res)
	}
	// a declared service that exits loses its name and starts afresh
	first := call(t, rt, other, "query", "db")[1]
	call(t, rt, other, "sendname", "db", "exit")
	eventually(t, "db gone", func() bool { _, ok := rt.Names().Lookup("db"); return !ok })
	if res := call(t, rt, other, "callname", "db", "get", "k"); res[0] != true || res[1] != "x:k" {
		t.Fatalf("restart on lookup: %#v", res)
	}
	if second := call(t, rt, other, "query", "db")[1]; second == first {
		t.Fatal("restarted service kept the old address")
	}
	// uniqueservice: one instance
	u1 := call(t, rt, other, "unique", "counter")[0]
	u2 := call(t, rt, namer, "unique", "counter")[0]
	if u1 != u2 {
		t.Fatalf("uniqueservice started twice: %v %v", u1, u2)
	}
	list := call(t, rt, other, "list")[0].([]any)
	found := false
	for _, e := range list {
		m := e.(map[string]any)
		if m["name"] == "boss" && m["state"] == "running" && m["script"] == "testdata/app/namer.lua" {
			found = true
		}
	}
	if !found {
		t.Fatalf("list lacks boss: %v", list)
	}
}
