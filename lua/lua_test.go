package lua_test

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

func TestCallBackNoDeadlock(t *testing.T) {
	e := newEnv(t)
	a, b := e.launch(t, "peer"), e.launch(t, "peer")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 100; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			res, err := e.try(a, "start", b, i)
			if err == nil && res[0] != int64(i+2) {
				err = fmt.Errorf("a.start(%d) = %v", i, res)
			}
			errs <- err
		}(i)
		go func(i int) {
			defer wg.Done()
			res, err := e.try(b, "start", a, i)
			if err == nil && res[0] != int64(i+2) {
				err = fmt.Errorf("b.start(%d) = %v", i, res)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestThousandConcurrentCalls(t *testing.T) {
	e := newEnv(t)
	a, b := e.launch(t, "peer"), e.launch(t, "peer")
	res := e.call(t, a, "fanout", b, 1000)
	if res[0] != int64(1000) {
		t.Fatalf("right answers: %v of 1000", res[0])
	}
}

func TestErrorsReachCallerAndCalleeSurvives(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "echo")
	dead := e.launch(t, "echo")
	if _, err := e.try(dead, "exit"); err == nil {
		t.Fatal("exit answered")
	}
	_, err := e.try(dead, "add", 1, 2)
	if !errors.Is(err, actor.ErrNoService) {
		t.Fatalf("call to dead service: %v", err)
	}
	_, err = e.try(a, "nosuch")
	if !errors.Is(err, actor.ErrNoCommand) || !strings.Contains(err.Error(), `echo(`+a.String()+`): call "nosuch"`) {
		t.Fatalf("unknown command: %v", err)
	}
	_, err = e.try(a, "boom", "it broke")
	if !errors.Is(err, actor.ErrRemote) || !strings.Contains(err.Error(), "echo.lua:14: it broke") {
		t.Fatalf("raising handler: %v", err)
	}
	if res := e.call(t, a, "add", 1, 2); res[0] != int64(3) {
		t.Fatalf("callee after errors: %v", res)
	}
	// the same from Lua: pcall(tern.call, ...) gets the error, the target lives
	g := e.launch(t, "guard")
	res := e.call(t, g, "pcall_call", a)
	if res[0] != false || !strings.Contains(res[1].(string), "inner") || res[2] != true || res[3] != int64(3) {
		t.Fatalf("pcall_call: %#v", res)
	}
}

func TestExitFailsPendingCallers(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "echo")
	const n = 5
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { _, err := e.try(a, "hold", 60_000); errs <- err }()
	}
	// every holder is in flight, suspended in tern.sleep
	waitFor(t, func() bool { return strings.Count(e.log.String(), `msg=holding`) == n })
	e.try(a, "exit")
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, actor.ErrExited) || !strings.Contains(err.Error(), "echo("+a.String()+")") {
				t.Fatalf("pending caller got %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("pending caller hangs")
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "condition", cond)
}

func TestPcallAcrossYields(t *testing.T) {
	e := newEnv(t)
	a, g := e.launch(t, "echo"), e.launch(t, "guard")
	res := e.call(t, g, "nested", a)
	if res[0] != true || res[1] != false || !strings.Contains(res[2].(string), "after 42") {
		t.Fatalf("nested: %#v", res)
	}
	res = e.call(t, g, "xpcall_trace", a)
	tb, _ := res[1].(string)
	if res[0] != false || !strings.Contains(tb, "attempt to index") || !strings.Contains(tb, "stack traceback") || !strings.Contains(tb, "guard.lua:28") {
		t.Fatalf("xpcall traceback: %#v", res)
	}
	res = e.call(t, g, "xpcall_args")
	if res[0] != true || res[1] != int64(7) {
		t.Fatalf("xpcall args: %#v", res)
	}
	res = e.call(t, g, "many_pcalls", a)
	if res[0] != int64(300) {
		t.Fatalf("many pcalls: %#v", res)
	}
}

func TestScriptCoroutines(t *testing.T) {
	e := newEnv(t)
	a, g := e.launch(t, "echo"), e.launch(t, "guard")
	res := e.call(t, g, "generator", a)
	if !reflect.DeepEqual(res[0], []any{int64(101), int64(102), int64(103)}) {
		t.Fatalf("generator: %#v", res)
	}
	res = e.call(t, g, "resume_values")
	want := []any{
		[]any{true, int64(2)},
		[]any{true, int64(4)},
		[]any{true, int64(6)},
		[]any{false, "can not resume a dead thread"},
	}
	if !reflect.DeepEqual(res[0], want) {
		t.Fatalf("resume values: %#v", res[0])
	}
	_, err := e.try(g, "yield_outside")
	if err == nil || !strings.Contains(err.Error(), "yield") {
		t.Fatalf("yield outside a coroutine: %v", err)
	}
}

func TestBlockingWhereLuaCannotYield(t *testing.T) {
	e := newEnv(t)
	a, g := e.launch(t, "echo"), e.launch(t, "guard")
	for _, cmd := range []string{"in_metamethod", "in_sort"} {
		res := e.call(t, g, cmd, a)
		if res[0] != false || !strings.Contains(res[1].(string), "tern.call: cannot block here") {
			t.Fatalf("%s: %#v", cmd, res)
		}
	}
	if res := e.call(t, a, "add", 2, 2); res[0] != int64(4) {
		t.Fatal("target broken")
	}
}

func TestDeepCopyBetweenServices(t *testing.T) {
	e := newEnv(t)
	a, c := e.launch(t, "echo"), e.launch(t, "copier")
	res := e.call(t, c, "all", a)
	want := []any{true, true, false, int64(42), -1.5, "str", "x", int64(1), "three", true, "ten", true, true}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("copy:\n got %#v\nwant %#v", res, want)
	}
	res = e.call(t, c, "cycle", a)
	if res[0] != false || !strings.Contains(res[1].(string), "cannot copy a table cycle at args[1].a.b") {
		t.Fatalf("cycle: %#v", res)
	}
	res = e.call(t, c, "func", a)
	if res[0] != false || !strings.Contains(res[1].(string), "cannot copy a function at args[1].handler") {
		t.Fatalf("function: %#v", res)
	}
	if res := e.call(t, c, "still"); res[0] != "fine" {
		t.Fatal("sender VM harmed")
	}
}

func TestNewService(t *testing.T) {
	e := newEnv(t)
	s := e.launch(t, "spawner")
	res := e.call(t, s, "spawn", "badinit", "no reason")
	if res[0] != false || !strings.Contains(res[1].(string), "init refused: no reason") || !strings.Contains(res[1].(string), "badinit(") {
		t.Fatalf("failing init: %#v", res)
	}
	res = e.call(t, s, "spawn_and_call", "withinit", "a", "b")
	if res[0] != "a+b" {
		t.Fatalf("init args: %#v", res)
	}
	res = e.call(t, s, "spawn", "nosuchscript")
	if res[0] != false || !strings.Contains(res[1].(string), "not found") {
		t.Fatalf("missing script: %#v", res)
	}
	if _, err := e.rt.Launch(t.Context(), "badinit", "from go"); err == nil || !strings.Contains(err.Error(), "from go") {
		t.Fatalf("launch badinit from Go: %v", err)
	}
}

func TestTimers(t *testing.T) {
	e := newEnv(t)
	tm := e.launch(t, "timers")
	res := e.call(t, tm, "order")
	want := []any{"first", "t10", "s15", "t20", "t20b", "t30", "s50"}
	if !reflect.DeepEqual(res[0], want) {
		t.Fatalf("order: %#v", res[0])
	}
	res = e.call(t, tm, "waitwake")
	if !reflect.DeepEqual(res, []any{[]any{"waiting", "waking", "woken"}, true, false}) {
		t.Fatalf("waitwake: %#v", res)
	}
	res = e.call(t, tm, "now")
	if d := res[0].(int64); d < 20 {
		t.Fatalf("now advanced %dms over a 20ms sleep", d)
	}
}

func TestDeferredResponse(t *testing.T) {
	e := newEnv(t)
	d := e.launch(t, "deferred")
	got := make(chan []any, 1)
	go func() { res, _ := e.try(d, "later", "k"); got <- res }()
	// answer() may run before later() registered: retry until it has
	waitFor(t, func() bool { _, err := e.try(d, "answer", "k", "v1", 2); return err == nil })
	if res := <-got; !reflect.DeepEqual(res, []any{"v1", int64(2)}) {
		t.Fatalf("deferred answer: %#v", res)
	}
	errc := make(chan error, 1)
	go func() { _, err := e.try(d, "later", "r"); errc <- err }()
	waitFor(t, func() bool { _, err := e.try(d, "reject", "r", "nope"); return err == nil })
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("deferred reject: %v", err)
	}
	if res := e.call(t, d, "timed", 5, "late"); res[0] != "late" {
		t.Fatalf("timed: %#v", res)
	}
}

func TestUnloadLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	before := runtime.NumGoroutine()
	e := newEnv(t)
	var addrs []actor.Addr
	for i := 0; i < 50; i++ {
		addrs = append(addrs, e.launch(t, "peer"))
	}
	e.call(t, addrs[0], "fanout", addrs[1], 100)
	for _, a := range addrs {
		if err := e.sys.Kill(a); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return e.sys.Count() == 0 })
	e.close()
	testutil.Eventually(t, 5*time.Second, "goroutines back to where they were", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

// Answered calltimeouts leave no timer behind: 20,000 calls with an
// hour's timeout leave the timer queue nearly empty.
func TestAnsweredCallTimeoutsLeaveNoTimers(t *testing.T) {
	e := newEnv(t)
	a, m := e.launch(t, "echo"), e.launch(t, "misc")
	if res := e.call(t, m, "many_calls", a, 20000); res[0] != int64(20000) {
		t.Fatalf("many_calls: %#v", res)
	}
	if n := e.sys.PendingTimers(); n > 200 {
		t.Fatalf("%d timers queued after 20,000 answered calltimeouts", n)
	}
}

func TestCallTimeout(t *testing.T) {
	e := newEnv(t)
	a, m := e.launch(t, "echo"), e.launch(t, "misc")
	res := e.call(t, m, "slow_call", a, 20)
	if res[0] != false || !strings.Contains(res[1].(string), "timeout") || !strings.Contains(res[1].(string), `echo(`+a.String()+`): call "hold"`) {
		t.Fatalf("calltimeout: %#v", res)
	}
	if res := e.call(t, m, "fast_call", a); res[0] != int64(3) {
		t.Fatalf("calltimeout in time: %#v", res)
	}
}

func TestRequireSendPrint(t *testing.T) {
	e := newEnv(t)
	m := e.launch(t, "misc")
	if res := e.call(t, m, "modules"); !reflect.DeepEqual(res, []any{int64(42), "sibling", true}) {
		t.Fatalf("modules: %#v", res)
	}
	other := e.launch(t, "misc")
	res := e.call(t, m, "sender", other, 100)
	got := res[0].([]any)
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("sends out of order: %v", got)
		}
	}
	if len(got) != 100 {
		t.Fatalf("sends lost: %d of 100", len(got))
	}
	e.call(t, m, "printing", 1, true)
	log := e.log.String()
	if !strings.Contains(log, `msg="printed 1 true" service=misc addr=`+m.String()) || !strings.Contains(log, `level=ERROR msg="an error line"`) {
		t.Fatalf("print/log lines missing:\n%s", log)
	}
}

// relay is a Go service that answers "relay" by calling a Lua service,
// with a continuation: it keeps serving while the Lua call is in flight.
type relay struct{ target actor.Addr }

func (r *relay) Init(*actor.Context) error { return nil }
func (r *relay) Stopped(*actor.Context)    {}
func (r *relay) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind != actor.Call {
		return
	}
	from, session := m.From, m.Session
	switch m.Cmd {
	case "mul":
		args, _ := pack.DecodeValues(m.Data)
		c.Reply(from, session, args[0].(int64)*args[1].(int64))
	case "relay":
		c.Call(r.target, "add", []any{20, 22}, func(res []any, err error) {
			if err != nil {
				c.Fail(from, session, err)
				return
			}
			c.Reply(from, session, res...)
		})
	}
}

func TestLuaAndGoServicesCallEachOther(t *testing.T) {
	e := newEnv(t)
	echo := e.launch(t, "echo")
	goSvc, err := e.sys.Launch(t.Context(), &relay{target: echo}, actor.SpawnOptions{Name: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	m := e.launch(t, "misc")
	if res := e.call(t, m, "call_go", goSvc, "mul", 6, 7); res[0] != int64(42) {
		t.Fatalf("Lua -> Go: %#v", res)
	}
	if res := e.call(t, m, "call_go", goSvc, "relay"); res[0] != int64(42) {
		t.Fatalf("Lua -> Go -> Lua: %#v", res)
	}
}

func TestLazyLibraries(t *testing.T) {
	e := newEnv(t)
	a, b := e.launch(t, "libs"), e.launch(t, "libs")
	res := e.call(t, a, "use")
	want := []any{true, int64(2), true, true, "ABC", "xxx", true, true, "function", "HEY!"}
	if !reflect.DeepEqual(res[0], want) {
		t.Fatalf("use:\n got %#v\nwant %#v", res[0], want)
	}
	res = e.call(t, a, "protected")
	if !reflect.DeepEqual(res, []any{false, false, true, true, true, "function", "function"}) {
		t.Fatalf("shared parts reachable: %#v", res)
	}
	res = e.call(t, a, "fenv")
	if want := []any{int64(5), true, true, true, true, true, true, true}; !reflect.DeepEqual(res[0], want) {
		t.Fatalf("fenv:\n got %#v\nwant %#v", res[0], want)
	}
	if res := e.call(t, a, "shared_upvalues"); res[0] != int64(0) || res[1] != true {
		t.Fatalf("shared functions' upvalues: %v tables (want 0), over 60 functions looked at: %v", res[0], res[1])
	}
	res = e.call(t, b, "isolated")
	if res[0] != true || res[2] != true || res[3] != "function" {
		t.Fatalf("a change to string or tern in one VM is seen in another: %#v", res)
	}
	res = e.call(t, b, "strict")
	r := res[0].([]any)
	if r[0] != "a,b" || r[1] != int64(2) || r[2] != true || r[3] != false || !strings.Contains(r[4].(string), "global undeclared") {
		t.Fatalf("strict: %#v", r)
	}
}

// probeService sends a broken frame to a target and hands what comes
// back to got.
func probeService(got chan<- *actor.Message) actor.Service {
	return &probe{got: got}
}

type probe struct {
	got          chan<- *actor.Message
	from         actor.Addr
	session, out uint32
}

func (p *probe) Init(*actor.Context) error { return nil }
func (p *probe) Stopped(*actor.Context)    {}
func (p *probe) Receive(c *actor.Context, m *actor.Message) {
	switch {
	case m.Kind == actor.Call && m.Cmd == "send-garbage":
		args, _ := pack.DecodeValues(m.Data)
		p.from, p.session = m.From, m.Session
		bad := actor.NewMessage()
		p.out = c.NewSession()
		bad.Kind, bad.Session, bad.Cmd = actor.Call, p.out, "echo"
		bad.Data = append(bad.Data[:0], 0x02, 0x05, 0xff, 0xff, 0xff) // 2 values, a string of absurd length
		c.Post(actor.Addr(args[0].(int64)), bad)
	case (m.Kind == actor.Reply || m.Kind == actor.Fail) && m.Session == p.out:
		p.got <- &actor.Message{Kind: m.Kind, Err: m.Err}
		c.Reply(p.from, p.session)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "echo")
	got := make(chan *actor.Message, 1)
	probe, err := e.sys.Launch(t.Context(), probeService(got), actor.SpawnOptions{Name: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	e.call(t, probe, "send-garbage", a)
	m := <-got
	if m.Kind != actor.Fail || !strings.Contains(m.Err.Error(), "corrupt data") || !strings.Contains(m.Err.Error(), `echo(`+a.String()+`): call "echo"`) {
		t.Fatalf("garbage frame: %v %v", m.Kind, m.Err)
	}
	if res := e.call(t, a, "add", 1, 2); res[0] != int64(3) {
		t.Fatal("service harmed by a broken frame")
	}
	// misuse of the API raises clear errors in the caller
	res := e.call(t, e.launch(t, "misc"), "misuse")
	for i, want := range []string{
		"bad argument #1 to call (service address or name expected, got nil)",
		"bad argument #2 to call (string expected, got table)",
		`bad argument #1 to send (actor: bad handle in address ":zz")`,
		"bad argument #1 to sleep (number expected, got string)",
	} {
		if !strings.Contains(res[0].([]any)[i].(string), want) {
			t.Errorf("misuse %d: %q, want %q", i+1, res[0].([]any)[i], want)
		}
	}
}

func TestBigValuesAndSelfCalls(t *testing.T) {
	e := newEnv(t)
	a, m := e.launch(t, "echo"), e.launch(t, "misc")
	// 20,000 is far past gopher-lua's default value stack: with a fixed
	// registry, table.concat and unpack would fail with "registry overflow".
	res := e.call(t, m, "big", a, 20000)
	if !reflect.DeepEqual(res, []any{int64(108893), int64(20000), "20000", int64(5000)}) {
		t.Fatalf("big: %#v", res)
	}
	if res := e.call(t, m, "self_call"); res[0] != int64(42) {
		t.Fatalf("self call: %#v", res)
	}
}
