package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
)

// timerShape is the timer workload: services services each chain ticks
// timeouts of ms milliseconds, every one arming the next, all at once;
// ideally it takes ticks*ms milliseconds.
type timerShape struct{ services, ticks, ms int }

// The workload: 10,000 services x 100 timeouts of 10 ms.
var defaultTimers = timerShape{10000, 100, 10}

// benchTimers is the shape the benchmarks run: defaultTimers, or
// BENCH_TIMERS=services,ticks,ms (e.g. 100,10000,0 to compare the cost
// of a timeout on a few hot services with that on many cold ones).
func benchTimers(b *testing.B) timerShape {
	v := os.Getenv("BENCH_TIMERS")
	if v == "" {
		return defaultTimers
	}
	f := strings.Split(v, ",")
	var n [3]int
	var err error
	if len(f) == 3 {
		for i := range f {
			if n[i], err = strconv.Atoi(strings.TrimSpace(f[i])); err != nil {
				break
			}
		}
	}
	if len(f) != 3 || err != nil {
		b.Fatalf("BENCH_TIMERS=%q: want services,ticks,ms", v)
	}
	return timerShape{n[0], n[1], n[2]}
}

// timerMeter times the runs of a timer workload: wall time, and the
// process's CPU time per timeout (what the work costs, whatever the
// number of cores). BENCH_CPUPROFILE=prefix writes a CPU profile of the
// timed part only (not the services' start) to prefix<benchmark>.cpu.
type timerMeter struct {
	wall, cpu time.Duration
	timeouts  int
	runs      int
}

func (m *timerMeter) measure(tb testing.TB, shape timerShape, run func()) {
	runtime.GC() // the services' start left garbage: don't time its collection
	var prof *os.File
	if prefix := os.Getenv("BENCH_CPUPROFILE"); prefix != "" {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name())
		var err error
		if prof, err = os.Create(prefix + name + ".cpu"); err != nil {
			tb.Fatal(err)
		}
		if err := pprof.StartCPUProfile(prof); err != nil {
			tb.Fatal(err)
		}
	}
	startTimer(tb)
	cpu0, start := cpuTime(), time.Now()
	run()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	stopTimer(tb)
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	m.wall += wall
	m.cpu += cpu
	m.timeouts += shape.services * shape.ticks
	m.runs++
}

func (m *timerMeter) report(b *testing.B) {
	if m.runs == 0 {
		return
	}
	b.ReportMetric(m.wall.Seconds()/float64(m.runs), "s/run")
	if m.cpu > 0 {
		b.ReportMetric(float64(m.cpu.Nanoseconds())/float64(m.timeouts), "cpu-ns/timeout")
	}
}

// fanout is a Go service: a Call "run" calls ("run", args...) on every
// one of to at once and answers when all have answered.
type fanout struct {
	to   []actor.Addr
	args []any
}

func (f *fanout) Init(*actor.Context) error { return nil }
func (f *fanout) Stopped(*actor.Context)    {}

func (f *fanout) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind != actor.Call {
		return
	}
	from, session, left := m.From, m.Session, len(f.to)
	var failed error
	for _, a := range f.to {
		c.Call(a, "run", f.args, func(_ []any, err error) {
			if err != nil && failed == nil {
				failed = err
			}
			if left--; left == 0 {
				if failed != nil {
					c.Fail(from, session, failed)
				} else {
					_ = c.Reply(from, session)
				}
			}
		})
	}
}

// goTicker is ticker.lua in Go: a Call "run" with (n, ms) chains n
// Context.After timers of ms milliseconds, then answers n.
type goTicker struct {
	from    actor.Addr
	session uint32
	left    int64
	every   time.Duration
}

func (g *goTicker) Init(*actor.Context) error { return nil }
func (g *goTicker) Stopped(*actor.Context)    {}

func (g *goTicker) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Call:
		args, err := pack.DecodeValues(m.Data)
		if err != nil || len(args) != 2 {
			c.Fail(m.From, m.Session, fmt.Errorf("want run(n, ms), got %v (%v)", args, err))
			return
		}
		g.from, g.session = m.From, m.Session
		g.left, g.every = args[0].(int64), time.Duration(args[1].(int64))*time.Millisecond
		c.After(g.every, c.NewSession())
	case actor.Timer:
		if g.left--; g.left == 0 {
			_ = c.Reply(g.from, g.session, g.left)
			return
		}
		c.After(g.every, c.NewSession())
	}
}

// timers runs the workload once on tern services: Lua ones (ticker.lua),
// or with goService Go ones (goTicker: tern's timer queue, mailboxes and
// dispatcher without Lua). Only the run itself is measured.
func timers(tb testing.TB, m *timerMeter, shape timerShape, goService bool) {
	e := newEnv(tb)
	defer e.close()
	f := &fanout{args: []any{shape.ticks, shape.ms}}
	for range shape.services {
		if goService {
			f.to = append(f.to, e.spawn("ticker", &goTicker{}))
		} else {
			f.to = append(f.to, e.launch("ticker"))
		}
	}
	driver := e.spawn("fanout", f)
	m.measure(tb, shape, func() { e.call(driver, "run") })
}

// BenchmarkTimers: 10,000 Lua services (ticker.lua) each chain 100
// tern.timeout(10 ms); one op is the whole workload, ideally 1 s,
// reported as s/run, with the CPU time per timeout. Run it with
// -benchtime=1x: one op already takes over a second.
func BenchmarkTimers(b *testing.B) {
	b.ReportAllocs()
	b.StopTimer() // the services' start and stop are not part of it
	shape := benchTimers(b)
	var m timerMeter
	for range b.N {
		timers(b, &m, shape, false)
	}
	m.report(b)
}

// BenchmarkTimersGoService: BenchmarkTimers with Go services (goTicker)
// instead of Lua ones, to tell the runtime's share from Lua's.
func BenchmarkTimersGoService(b *testing.B) {
	b.ReportAllocs()
	b.StopTimer()
	shape := benchTimers(b)
	var m timerMeter
	for range b.N {
		timers(b, &m, shape, true)
	}
	m.report(b)
}

// BenchmarkBaselineGoTimers: the timer workload in plain Go, the best
// this machine's Go runtime does: chains of time.AfterFunc, each firing
// arming the next.
func BenchmarkBaselineGoTimers(b *testing.B) {
	b.ReportAllocs()
	b.StopTimer()
	shape := benchTimers(b)
	var m timerMeter
	for range b.N {
		m.measure(b, shape, func() { goTimers(shape) })
	}
	m.report(b)
}

func goTimers(shape timerShape) {
	var wg sync.WaitGroup
	wg.Add(shape.services)
	d := time.Duration(shape.ms) * time.Millisecond
	for range shape.services {
		left := shape.ticks
		var tick func()
		tick = func() {
			if left--; left == 0 {
				wg.Done()
				return
			}
			time.AfterFunc(d, tick)
		}
		time.AfterFunc(d, tick)
	}
	wg.Wait()
}
