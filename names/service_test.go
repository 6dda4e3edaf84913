package names_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
)

// world is a system running a name service, with its log.
type world struct {
	sys   *actor.System
	names actor.Addr
	log   *testutil.Buffer
}

// newWorld starts a name service; declared services are Go services from
// svcs, started by script name.
func newWorld(t *testing.T, declared map[string]names.Decl, svcs map[string]func() actor.Service) *world {
	t.Helper()
	w := &world{log: &testutil.Buffer{}}
	w.sys = actor.NewSystem(actor.Options{Logger: slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.sys.Close(ctx)
	})
	start := func(script string, args []byte, _ *actor.Limits, readyTo actor.Addr, session uint32) (actor.Addr, error) {
		f := svcs[script]
		if f == nil {
			return actor.None, errors.New("no script " + script)
		}
		return w.sys.Spawn(f(), actor.SpawnOptions{Name: script, ReadyTo: readyTo, ReadySession: session})
	}
	a, err := w.sys.Launch(context.Background(), names.New(names.NewTable(), start, declared), actor.SpawnOptions{Name: "names"})
	if err != nil {
		t.Fatal(err)
	}
	w.names = a
	return w
}

func (w *world) call(t *testing.T, cmd string, args ...any) ([]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.sys.Call(ctx, w.names, cmd, args...)
}

// stat is the name service's counts.
func (w *world) stat(t *testing.T) map[string]int64 {
	t.Helper()
	res, err := w.call(t, "stat")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for k, v := range res[0].(map[string]any) {
		out[k] = v.(int64)
	}
	return out
}

// idle fails unless the name service holds no call waiting for a name.
func (w *world) idle(t *testing.T) {
	t.Helper()
	st := w.stat(t)
	for _, k := range []string{"waiting", "names", "callers", "timers"} {
		if st[k] != 0 {
			t.Fatalf("the name service still holds %d %s: %v", st[k], k, st)
		}
	}
}

// querier is a service that sends n queries for name to the name
// service, with deadline ms (nil for none), when it gets "go".
type querier struct {
	names    actor.Addr
	n        int
	name     string
	ms       any
	answered atomic.Int64
	timeouts atomic.Int64
	stray    atomic.Int64 // answers to calls already answered
	marked   atomic.Bool
}

func (q *querier) Init(*actor.Context) error { return nil }
func (q *querier) Stopped(*actor.Context)    {}
func (q *querier) Receive(c *actor.Context, m *actor.Message) {
	switch {
	case m.Kind == actor.Send && m.Cmd == "go":
		for i := 0; i < q.n; i++ {
			c.Call(q.names, "query", []any{q.name, q.ms}, func(_ []any, err error) {
				if errors.Is(err, actor.ErrTimeout) {
					q.timeouts.Add(1)
				}
				q.answered.Add(1)
			})
		}
	case m.Kind == actor.Send && m.Cmd == "exit":
		c.Exit()
	case m.Kind == actor.Send && m.Cmd == "mark":
		q.marked.Store(true)
	case m.Kind == actor.Reply || m.Kind == actor.Fail:
		q.stray.Add(1)
	}
}

// namesExit stops the name service and waits until it has finished: what
// it still owed was failed by then.
func (w *world) namesExit(t *testing.T) {
	t.Helper()
	gone := make(chan struct{})
	var once atomic.Bool
	w.sys.OnExit(func(a actor.Addr) {
		if a == w.names && !once.Swap(true) {
			close(gone)
		}
	})
	if err := w.sys.Kill(w.names); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the name service did not stop")
	}
}

func TestTimedOutQueriesLeaveNothingBehind(t *testing.T) {
	w := newWorld(t, nil, nil)
	const n = 10000
	q := &querier{names: w.names, n: n, name: "nobody", ms: 20}
	qa, err := w.sys.Spawn(q, actor.SpawnOptions{Name: "querier"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sys.Send(qa, "go"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "every query failed at its deadline", func() bool { return q.answered.Load() == n })
	if got := q.timeouts.Load(); got != n {
		t.Fatalf("%d of %d queries failed with ErrTimeout", got, n)
	}
	w.idle(t)
	// Nothing is owed either: when the name service stops, the runtime
	// fails what it still owes, and the querier would get it.
	w.namesExit(t)
	if err := w.sys.Send(qa, "mark"); err != nil { // behind any such answer
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the querier marked", q.marked.Load)
	if s := q.stray.Load(); s != 0 {
		t.Fatalf("the name service still owed %d timed-out queries", s)
	}
}

func TestQueriesOfAnExitedCallerLeaveNothingBehind(t *testing.T) {
	w := newWorld(t, nil, nil)
	const n = 10000
	q := &querier{names: w.names, n: n, name: "nobody"} // no deadline
	qa, err := w.sys.Spawn(q, actor.SpawnOptions{Name: "querier"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sys.Send(qa, "go"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the queries waiting", func() bool { return w.stat(t)["waiting"] == n })
	if err := w.sys.Send(qa, "exit"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the queries dropped", func() bool { return w.stat(t)["waiting"] == 0 })
	w.idle(t)
	// Nothing is owed either: the name service would answer each owed call
	// when it stops, and the runtime logs each answer to a caller gone.
	before := strings.Count(w.log.String(), "answer dropped")
	w.namesExit(t)
	if d := strings.Count(w.log.String(), "answer dropped") - before; d != 0 {
		t.Fatalf("the name service still owed %d queries of the exited caller", d)
	}
}

// starter is a service whose start never ends.
type starter struct{}

func (starter) Init(c *actor.Context) error            { c.DeferReady(); return nil }
func (starter) Receive(*actor.Context, *actor.Message) {}
func (starter) Stopped(*actor.Context)                 {}

func TestQueryDeadlineWhileTheDeclaredServiceStarts(t *testing.T) {
	w := newWorld(t, map[string]names.Decl{"slow": {Script: "slow"}},
		map[string]func() actor.Service{"slow": func() actor.Service { return starter{} }})
	_, err := w.call(t, "query", "slow", 20)
	if !errors.Is(err, actor.ErrTimeout) || !strings.Contains(err.Error(), `names(`+w.names.String()+`): query "slow": timeout`) {
		t.Fatalf("query past its deadline: %v", err)
	}
	st := w.stat(t)
	if st["launches"] != 1 {
		t.Fatalf("the start should still be under way: %v", st)
	}
	w.idle(t)
	// a fractional deadline
	if _, err := w.call(t, "query", "slow", 0.5); !errors.Is(err, actor.ErrTimeout) {
		t.Fatalf("query with 0.5 ms: %v", err)
	}
	for _, bad := range []any{"10", -1.0 / zero(), 1e300} {
		if _, err := w.call(t, "query", "slow", bad); err == nil || !strings.Contains(err.Error(), "argument #2 (ms)") {
			t.Fatalf("query with deadline %v: %v", bad, err)
		}
	}
	w.idle(t)
}

func zero() float64 { return 0 }

var repeated = regexp.MustCompile(`repeated=(\d+)`)

func TestSendsToAnUnknownNameWarnOncePerSecondWithACount(t *testing.T) {
	w := newWorld(t, nil, nil)
	const n = 10000
	for i := 0; i < n; i++ {
		m := actor.NewMessage()
		m.Kind, m.Cmd, m.Ctl = actor.Send, "ping", names.Forward{Name: "ghost"}
		if err := w.sys.Post(w.names, m); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (lines, total int) {
		for _, l := range strings.Split(w.log.String(), "\n") {
			if !strings.Contains(l, "send to unknown name dropped") {
				continue
			}
			lines++
			total++
			if m := repeated.FindStringSubmatch(l); m != nil {
				k, _ := strconv.Atoi(m[1])
				total += k
			}
		}
		return
	}
	testutil.Eventually(t, 10*time.Second, "every send accounted for", func() bool { _, total := count(); return total == n })
	if lines, _ := count(); lines > 3 {
		t.Fatalf("%d warning lines for %d sends:\n%s", lines, n, w.log)
	}
	if !strings.Contains(w.log.String(), `name=ghost`) {
		t.Fatalf("the warning does not name the name:\n%s", w.log)
	}
}

func TestEveryCallIsAnswered(t *testing.T) {
	w := newWorld(t, nil, nil)
	// an unknown command names the service and its address
	_, err := w.call(t, "nope")
	var ae *actor.Error
	if !errors.Is(err, actor.ErrNoCommand) || !errors.As(err, &ae) || ae.Name != "names" || ae.Addr != w.names {
		t.Fatalf("unknown command: %v", err)
	}
	// a control call
	session, wait := w.sys.Await()
	m := actor.NewMessage()
	m.Kind, m.Session, m.Ctl = actor.Control, session, struct{}{}
	if err := w.sys.Post(w.names, m); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wait(ctx, w.names); err != nil {
		t.Fatalf("control call: %v", err)
	}
	// bad arguments
	if _, err := w.call(t, "query"); err == nil {
		t.Fatal("query without a name: no error")
	}
	// register needs a service to register
	if _, err := w.call(t, "register", "outsider"); err == nil || !strings.Contains(err.Error(), "outsider") {
		t.Fatalf("register from outside any service: %v", err)
	}
	// a query sent, not called, waits for nothing
	if err := w.sys.Send(w.names, "query", "nobody"); err != nil {
		t.Fatal(err)
	}
	w.idle(t)
}
