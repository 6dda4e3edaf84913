package bench

import (
	"fmt"
	"testing"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
)

const (
	// spawnRound: the spawn benchmarks close their system, untimed, after
	// this many services, so b.N does not pile up live VMs.
	spawnRound = 1000
	// idleServices is K, the number of idle services the heap is measured on.
	idleServices = 2000
	// sendBatch is n for one sender.lua run: the sends of one run may all
	// sit in the counter's mailbox at once, and a mailbox warns ("may
	// overload") from 1024 queued messages and refuses posts past 1<<20.
	sendBatch = 1000
)

// goCaller is a Go service: a Call "run" with n makes n sequential
// Go->Go calls to target ("ping", i), each from the previous one's
// continuation, then answers n.
type goCaller struct{ target actor.Addr }

func (g *goCaller) Init(*actor.Context) error { return nil }
func (g *goCaller) Stopped(*actor.Context)    {}

func (g *goCaller) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind != actor.Call {
		return
	}
	args, err := pack.DecodeValues(m.Data)
	if err != nil || m.Cmd != "run" || len(args) != 1 {
		c.Fail(m.From, m.Session, fmt.Errorf("want run(n), got %s%v (%v)", m.Cmd, args, err))
		return
	}
	from, session, n := m.From, m.Session, args[0].(int64)
	var i int64
	var next func([]any, error)
	next = func(res []any, err error) {
		if err == nil && i > 0 && (len(res) != 1 || res[0] != i+1) {
			err = fmt.Errorf("ping %d: got %v", i, res)
		}
		if err != nil {
			c.Fail(from, session, err)
			return
		}
		if i == n {
			_ = c.Reply(from, session, n)
			return
		}
		i++
		c.Call(g.target, "ping", []any{i}, next)
	}
	next(nil, nil)
}

// goPong is the Go callee: ping(n) answers n + 1.
var goPong = actor.Handlers{
	"ping": func(_ *actor.Context, args []any) ([]any, error) {
		return []any{args[0].(int64) + 1}, nil
	},
}

func goCall(tb testing.TB, n int) {
	e := newEnv(tb)
	defer e.close()
	pong := e.spawn("pong", goPong)
	caller := e.spawn("caller", &goCaller{target: pong})
	resetTimer(tb)
	res := e.call(caller, "run", n)
	stopTimer(tb)
	if res[0] != int64(n) {
		tb.Fatalf("run: %v", res)
	}
}

// BenchmarkGoCall: one op is one Go->Go call round trip through tern
// (Context.Call with a continuation, answered by an actor.Handlers).
func BenchmarkGoCall(b *testing.B) {
	b.ReportAllocs()
	goCall(b, b.N)
	perSecond(b, "calls/s")
}

func luaCall(tb testing.TB, n int) {
	e := newEnv(tb)
	defer e.close()
	pong := e.launch("pong")
	caller := e.launch("caller")
	resetTimer(tb)
	res := e.call(caller, "run", pong, n)
	stopTimer(tb)
	if res[0] != int64(n) {
		tb.Fatalf("run: %v", res)
	}
}

// BenchmarkLuaCall: one op is one Lua->Lua tern.call round trip.
func BenchmarkLuaCall(b *testing.B) {
	b.ReportAllocs()
	luaCall(b, b.N)
	perSecond(b, "calls/s")
}

func luaSend(tb testing.TB, n int) {
	e := newEnv(tb)
	defer e.close()
	counter := e.launch("counter")
	sender := e.launch("sender")
	resetTimer(tb)
	var total int64
	for left := n; left > 0; {
		k := min(left, sendBatch)
		left -= k
		total = e.call(sender, "run", counter, k)[0].(int64)
	}
	stopTimer(tb)
	if total != int64(n) {
		tb.Fatalf("counted %d of %d", total, n)
	}
}

// BenchmarkLuaSend: one op is one Lua->Lua tern.send. The sender sends
// in runs of sendBatch, each ended by one tern.call (0.1% of the
// messages), as bench/send.lua does.
func BenchmarkLuaSend(b *testing.B) {
	b.ReportAllocs()
	luaSend(b, b.N)
	perSecond(b, "msgs/s")
}

// BenchmarkSpawn: one op launches one Lua service (idle.lua) from Go and
// waits for its init to finish. Sequential.
func BenchmarkSpawn(b *testing.B) {
	b.ReportAllocs()
	for left := b.N; left > 0; {
		k := min(left, spawnRound)
		left -= k
		b.StopTimer()
		e := newEnv(b)
		e.launch("idle") // compiles the script once, as a running node has
		b.StartTimer()
		for range k {
			e.launch("idle")
		}
		b.StopTimer()
		e.close()
		b.StartTimer()
	}
	perSecond(b, "services/s")
}

// BenchmarkSpawnFromLua: one op is one tern.newservice("idle") from a
// Lua service, which waits for the child's init: skynet's way to spawn.
func BenchmarkSpawnFromLua(b *testing.B) {
	b.ReportAllocs()
	for left := b.N; left > 0; {
		k := min(left, spawnRound)
		left -= k
		b.StopTimer()
		e := newEnv(b)
		spawner := e.launch("spawner")
		e.launch("idle")
		b.StartTimer()
		e.call(spawner, "run", "idle", k)
		b.StopTimer()
		e.close()
		b.StartTimer()
	}
	perSecond(b, "services/s")
}

// BenchmarkIdleHeap: the memory idleServices idle Lua services (idle.lua)
// hold, per service: Go heap (B/service, the figure the target is about),
// goroutine stacks (stack-B/service) and resident memory (RSS-B/service,
// what skynet's figure measures). One op starts idleServices services.
func BenchmarkIdleHeap(b *testing.B) {
	b.ReportAllocs()
	m := newIdleMeter()
	for range b.N {
		e := newEnv(b)
		e.launch("idle")
		m.before()
		for range idleServices {
			e.launch("idle")
		}
		m.after(idleServices)
		b.StopTimer()
		e.close()
		m.closed()
		b.StartTimer()
	}
	m.report(b)
}

// The workloads run both as benchmarks and, small, as tests; these touch
// the benchmark timer only in the first case.

func resetTimer(tb testing.TB) {
	if b, ok := tb.(*testing.B); ok {
		b.ResetTimer()
	}
}

func startTimer(tb testing.TB) {
	if b, ok := tb.(*testing.B); ok {
		b.StartTimer()
	}
}

func stopTimer(tb testing.TB) {
	if b, ok := tb.(*testing.B); ok {
		b.StopTimer()
	}
}
