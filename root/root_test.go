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
	"github.com/tern-dev/tern/internal/pack"
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
	var released atomic.Bool
	rt, _ := start(t, Config{Services: map[string]names.Decl{"flaky": {Script: "flaky"}}}, func(rt *Runtime) {
		rt.RegisterGo("attempts", func([]any) (actor.Service, error) {
			return actor.Handlers{
				"next": func(*actor.Context, []any) ([]any, error) {
					return []any{attempts.Add(1)}, nil
				},
				"released": func(*actor.Context, []any) ([]any, error) {
					return []any{released.Load()}, nil
				},
			}, nil
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
	// The first attempt fails only once all 20 wait for it (a caller
	// coming after the failure would start the second attempt).
	eventually(t, "20 callers waiting for flaky", func() bool {
		st := call(t, rt, actor.Addr(rt.names.Load()), "stat")
		m, _ := st[0].(map[string]any)
		return m["waiting"] == int64(20)
	})
	released.Store(true)
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

// within runs fn and fails the test if it has not returned after 5 s: the
// calls in fn must not block.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still blocked after 5s", what)
	}
}

// waitCode waits (10 s at most) for the runtime to end.
func waitCode(t *testing.T, rt *Runtime, log *testutil.Buffer) int {
	t.Helper()
	select {
	case <-rt.Done():
		return rt.Wait()
	case <-time.After(10 * time.Second):
		t.Fatalf("the runtime did not end within 10s:\n%s", log.String())
	}
	return -1
}

func (r *Runtime) rootAddr() actor.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.root
}

// onShutdownOrder lists the X of each `on_shutdown X` log line, in order.
func onShutdownOrder(out string) string {
	var order []string
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, `msg="on_shutdown `); i >= 0 && !strings.Contains(line, "done") {
			order = append(order, strings.TrimSuffix(strings.Fields(line[i+len(`msg="on_shutdown `):])[0], `"`))
		}
	}
	return strings.Join(order, ",")
}

// Issue 6: the bootstrap's tern.shutdown on its first line raced with
// Start's write of the root's address (-race reported it); a late write
// sent the request to address 0 and the process never ended.
func TestShutdownFromTheBootstrapsFirstLine(t *testing.T) {
	for i := 0; i < 5; i++ {
		log := &testutil.Buffer{}
		rt, err := New(Config{Bootstrap: "testdata/app/quit.lua", LogOutput: log})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := rt.Start(ctx); err != nil && !errors.Is(err, ErrStopped) {
			t.Fatalf("start: %v\n%s", err, log.String())
		}
		cancel()
		if code := waitCode(t, rt, log); code != 5 {
			t.Fatalf("exit code %d, want 5:\n%s", code, log.String())
		}
	}
}

// Issue 6: tern.call(1, "x") hung: the root never answered.
func TestRootAnswersEveryCall(t *testing.T) {
	rt, _ := start(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	root := rt.rootAddr()
	_, err := rt.Call(ctx, root, "x")
	var ae *actor.Error
	if !errors.Is(err, actor.ErrNoCommand) || !errors.As(err, &ae) || ae.Name != "root" || ae.Addr != root ||
		!strings.Contains(err.Error(), `root(:00000001): call "x": no such command`) {
		t.Fatalf("call to the root from Go: %v", err)
	}
	namer, err := rt.lua.Launch(ctx, "namer")
	if err != nil {
		t.Fatal(err)
	}
	res := call(t, rt, namer, "callname", int64(root), "x")
	if res[0] != false || !strings.Contains(res[1].(string), "no such command") || !strings.Contains(res[1].(string), "root(:00000001)") {
		t.Fatalf("tern.call(1, \"x\") from Lua: %#v", res)
	}
}

// Issue 6: Send, Call and Shutdown before Start hung.
func TestBeforeStartFailsAtOnce(t *testing.T) {
	rt, err := New(Config{LogOutput: &testutil.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "before Start", func() {
		if err := rt.Send("x", "y"); !errors.Is(err, ErrNotStarted) {
			t.Errorf("Send: %v", err)
		}
		if _, err := rt.Call(context.Background(), actor.Addr(5), "y"); !errors.Is(err, ErrNotStarted) {
			t.Errorf("Call: %v", err)
		}
		if err := rt.Shutdown(context.Background()); !errors.Is(err, ErrNotStarted) || !strings.Contains(err.Error(), "shutdown") {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

// Issue 6: Send blocked while a lazily started target ran its init, and
// forever if the init never ended; Call to address 0 waited out its
// context.
func TestEmbeddingNeverBlocks(t *testing.T) {
	rt, _ := start(t, Config{Services: map[string]names.Decl{
		"stuck": {Script: "stuck"},
		"late":  {Script: "lateinit"},
	}}, nil)
	within(t, "sends and bad calls", func() {
		if err := rt.Send("stuck", "ping"); err != nil {
			t.Errorf("send to a service whose init never ends: %v", err)
		}
		for i := 1; i <= 20; i++ {
			if err := rt.Send("late", "push", i); err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		}
		for _, target := range []any{actor.None, ":00000000"} {
			_, err := rt.Call(context.Background(), target, "x")
			if !errors.Is(err, actor.ErrNoService) || !strings.Contains(err.Error(), `:00000000: call "x": no such service`) {
				t.Errorf("call %v: %v", target, err)
			}
			err = rt.Send(target, "x")
			if !errors.Is(err, actor.ErrNoService) || !strings.Contains(err.Error(), `:00000000: send "x": no such service`) {
				t.Errorf("send %v: %v", target, err)
			}
		}
		if err := rt.Send("a:b", "x"); err == nil || !strings.Contains(err.Error(), `bad target "a:b"`) {
			t.Errorf("send to a bad target: %v", err)
		}
	})
	// what was sent during the init arrives after it, in order
	var want []any
	for i := 1; i <= 20; i++ {
		want = append(want, int64(i))
	}
	if got := call(t, rt, "late", "got")[0]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("sent during init: %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Send("late", "push", 1); !errors.Is(err, ErrStopped) {
		t.Fatalf("send after the end: %v", err)
	}
	if _, err := rt.Call(ctx, "late", "got"); !errors.Is(err, ErrStopped) {
		t.Fatalf("call after the end: %v", err)
	}
}

// Issue 6: on_shutdown ran for named services only, in registration
// order. Every service gets Shutdown: the named ones, then the anonymous
// ones (the bootstrap among them), each in reverse start order.
func TestShutdownReachesEveryServiceInReverseStartOrder(t *testing.T) {
	rt, log := start(t, Config{Bootstrap: "testdata/app/order.lua"}, nil)
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := waitCode(t, rt, log); code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	// started main, n1, n2, a1, a2; registered n2 then n1
	if got := onShutdownOrder(log.String()); got != "n2,n1,a2,a1,main" {
		t.Fatalf("on_shutdown order %s, want n2,n1,a2,a1,main\n%s", got, log.String())
	}
}

// Issue 6: an anonymous service in an endless loop was not noticed: exit
// 0, no log line. It is named and the exit code is 2. (The loop here ends
// after 1.5 s, so that the test does not leave a goroutine spinning.)
func TestSpinningAnonymousServiceMissesTheDeadline(t *testing.T) {
	rt, log := start(t, Config{ShutdownTimeout: 200 * time.Millisecond}, nil)
	sp, err := rt.lua.Launch(context.Background(), "spinner")
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Send(sp, "spin", 1500); err != nil {
		t.Fatal(err)
	}
	eventually(t, "spinning", func() bool { return strings.Contains(log.String(), "msg=spinning") })
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := waitCode(t, rt, log); code != ExitDeadline {
		t.Fatalf("exit code %d, want %d\n%s", code, ExitDeadline, log.String())
	}
	if want := `msg="service missed the shutdown deadline; stopping it" service=root addr=:00000001 name=spinner at=` + sp.String(); !strings.Contains(log.String(), want) {
		t.Fatalf("the spinning service is not named (%s):\n%s", want, log.String())
	}
}

// Issue 6: a shutdown while the bootstrap's top level ran logged ERROR
// "boot failed". It is a shutdown during boot: info, the shutdown's exit
// code, and Start returns ErrStopped.
func TestShutdownDuringBoot(t *testing.T) {
	log := &testutil.Buffer{}
	rt, err := New(Config{Bootstrap: "testdata/app/sleepy.lua", LogOutput: log})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- rt.Start(context.Background()) }()
	eventually(t, "booting", func() bool { return strings.Contains(log.String(), "msg=booting") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-started:
		if !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "shutdown during boot") {
			t.Fatalf("start: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after the runtime ended")
	}
	code := waitCode(t, rt, log)
	out := log.String()
	if code != ExitOK || !strings.Contains(out, `level=INFO msg="shutdown during boot"`) || strings.Contains(out, "level=ERROR") {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
}

// A shutdown asked for before the root runs (an early signal) waits for
// it: the core boots, the bootstrap does not start, the exit is clean.
func TestShutdownBeforeTheRootRuns(t *testing.T) {
	log := &testutil.Buffer{}
	rt, err := New(Config{Bootstrap: "testdata/app/sleepy.lua", LogOutput: log})
	if err != nil {
		t.Fatal(err)
	}
	rt.requestShutdown(stopRequest{code: 4, reason: "early"})
	if err := rt.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("start: %v", err)
	}
	code := waitCode(t, rt, log)
	out := log.String()
	if code != 4 || !strings.Contains(out, `msg="shutdown during boot"`) || strings.Contains(out, "booting") {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
}

// max_message reaches the Lua services, Runtime.Send and the arguments
// of declared services.
func TestMaxMessage(t *testing.T) {
	rt, _ := start(t, Config{MaxMessage: 1024, Services: map[string]names.Decl{
		"small": {Script: "big", Args: []any{strings.Repeat("x", 512)}},
		"huge":  {Script: "big", Args: []any{strings.Repeat("x", 4096)}},
	}}, nil)
	b, err := rt.lua.Launch(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, rt, b, "send", int64(b), 512); res[0] != true {
		t.Fatalf("512 bytes: %#v", res)
	}
	if res := call(t, rt, b, "send", int64(b), 4096); res[0] != false || !strings.Contains(fmt.Sprint(res[1]), "1024") {
		t.Fatalf("4096 bytes past a 1024-byte cap: %#v", res)
	}
	// From Go: Send by address and by name.
	for _, target := range []any{b, "small"} {
		if err := rt.Send(target, "x", strings.Repeat("x", 512)); err != nil {
			t.Errorf("Send 512 bytes to %v: %v", target, err)
		}
		if err := rt.Send(target, "x", strings.Repeat("x", 4096)); !errors.Is(err, pack.ErrTooLarge) || !strings.Contains(err.Error(), "over 1024 bytes") {
			t.Errorf("Send 4096 bytes to %v past a 1024-byte cap: %v", target, err)
		}
	}
	// A declared service's arguments.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := rt.Call(ctx, "huge", "x"); !errors.Is(err, pack.ErrTooLarge) || !strings.Contains(err.Error(), `names: start "huge"`) {
		t.Errorf("declared service with 4096 bytes of arguments past a 1024-byte cap: %v", err)
	}
	if _, err := New(Config{MaxMessage: -1}); err == nil || !strings.Contains(err.Error(), "MaxMessage") {
		t.Fatalf("negative MaxMessage: %v", err)
	}
}

// slowLog is a log output whose writes of a record holding "SLOW" take
// 50 ms, as a slow stderr's do.
type slowLog struct{ testutil.Buffer }

func (w *slowLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "SLOW") {
		time.Sleep(50 * time.Millisecond)
	}
	return w.Buffer.Write(p)
}

// The logger blocks on its output, so it runs Dedicated: a slow write
// holds no worker of the pool (on the pool, the monitor would replace the
// held worker and log it, naming the logger).
func TestLoggerIsDedicated(t *testing.T) {
	log := &slowLog{}
	rt, err := New(Config{LogOutput: log, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		rt.Logger().Info("SLOW")
	}
	rt.Logger().Info("after the slow ones")
	eventually(t, "the records written", func() bool { return strings.Contains(log.String(), "after the slow ones") })
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if out := log.String(); strings.Contains(out, "worker is replaced") {
		t.Fatalf("a slow log write held a worker of the pool:\n%s", out)
	}
}
