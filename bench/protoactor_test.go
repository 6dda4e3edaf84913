package bench

// The baselines: raw protoactor-go, which tern runs on. This is the one
// file of package bench that imports protoactor-go directly, on purpose:
// the issue asks for tern's figures as ratios to what protoactor-go itself
// does on the same machine, in the same `go test -bench` run.
//
// BenchmarkBaselineProtoactor* use protoactor's defaults (default props,
// default mailbox, default dispatcher: `go fn()` for each mailbox run).
// BenchmarkProtoactorParked* are the same workloads with one change: the
// dispatcher is parkedDispatcher below, a small copy of the idea in
// actor/dispatcher.go (each actor's mailbox runs on its own goroutine,
// parked on a channel between runs). They measure that design choice
// without tern's mailbox, handle table or Lua in the way.

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
)

// parkedDispatcher runs every mailbox run of one actor on one goroutine,
// woken through a one-slot channel: a protoactor mailbox schedules at most
// one run at a time, so Schedule never blocks.
type parkedDispatcher struct {
	wake chan func()
	done chan struct{}
}

var _ pa.Dispatcher = (*parkedDispatcher)(nil)

func newParkedDispatcher() *parkedDispatcher {
	d := &parkedDispatcher{wake: make(chan func(), 1), done: make(chan struct{})}
	go d.loop()
	return d
}

func (d *parkedDispatcher) Schedule(fn func()) {
	select {
	case d.wake <- fn:
	case <-d.done: // stopped: the actor is gone
	}
}

// Throughput is protoactor's default.
func (d *parkedDispatcher) Throughput() int { return 300 }

func (d *parkedDispatcher) loop() {
	for {
		select {
		case fn := <-d.wake:
			fn()
		case <-d.done:
			return
		}
	}
}

func (d *parkedDispatcher) stop() { close(d.done) }

// paNode is a raw protoactor actor system whose actors use the default
// dispatcher, or each a parkedDispatcher.
type paNode struct {
	as     *pa.ActorSystem
	parked bool
	pids   []*pa.PID
	disps  []*parkedDispatcher
}

func newPANode(parked bool) *paNode {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil)) // as tern does
	as := pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return quiet }))
	return &paNode{as: as, parked: parked}
}

func (n *paNode) spawn(a pa.Actor) *pa.PID {
	var opts []pa.PropsOption
	if n.parked {
		d := newParkedDispatcher()
		n.disps = append(n.disps, d)
		opts = append(opts, pa.WithDispatcher(d))
	}
	pid := n.as.Root.Spawn(pa.PropsFromProducer(func() pa.Actor { return a }, opts...))
	n.pids = append(n.pids, pid)
	return pid
}

// close stops every actor, waits for each to stop, then stops the
// dispatchers' goroutines and the actor system.
func (n *paNode) close() {
	futures := make([]*pa.Future, len(n.pids))
	for i, pid := range n.pids {
		futures[i] = n.as.Root.StopFuture(pid)
	}
	for _, f := range futures {
		_ = f.Wait()
	}
	for _, d := range n.disps {
		d.stop()
	}
	n.as.Shutdown()
}

// ball goes back and forth between ping and pong.
type ball struct{ from *pa.PID }

// rally tells ping to play n round trips and close done.
type rally struct {
	n    int
	done chan struct{}
}

type pingActor struct {
	pong *pa.PID
	ball ball
	left int
	done chan struct{}
}

func (a *pingActor) Receive(c pa.Context) {
	switch m := c.Message().(type) {
	case *rally:
		a.left, a.done = m.n, m.done
		a.ball.from = c.Self()
		c.Send(a.pong, &a.ball)
	case *ball:
		a.left--
		if a.left == 0 {
			close(a.done)
			return
		}
		c.Send(a.pong, m)
	}
}

type pongActor struct{}

func (pongActor) Receive(c pa.Context) {
	if m, ok := c.Message().(*ball); ok {
		c.Send(m.from, m)
	}
}

// paPingPong plays n sequential round trips between two actors.
func paPingPong(tb testing.TB, parked bool, n int) {
	node := newPANode(parked)
	defer node.close()
	pong := node.spawn(pongActor{})
	ping := node.spawn(&pingActor{pong: pong})
	done := make(chan struct{})
	resetTimer(tb)
	node.as.Root.Send(ping, &rally{n: n, done: done})
	<-done
	stopTimer(tb)
}

func benchPAPingPong(b *testing.B, parked bool) {
	b.ReportAllocs()
	paPingPong(b, parked, b.N)
	perSecond(b, "calls/s")
}

// BenchmarkBaselineProtoactorPingPong: one op is one round trip between
// two raw protoactor actors (default dispatcher).
func BenchmarkBaselineProtoactorPingPong(b *testing.B) { benchPAPingPong(b, false) }

// BenchmarkProtoactorParkedPingPong: the same with parked goroutines.
func BenchmarkProtoactorParkedPingPong(b *testing.B) { benchPAPingPong(b, true) }

// burst tells the sender to send n messages to the receiver.
type burst struct{ n int }

type tick struct{}

type senderActor struct{ to *pa.PID }

func (a *senderActor) Receive(c pa.Context) {
	if m, ok := c.Message().(*burst); ok {
		t := &tick{}
		for range m.n {
			c.Send(a.to, t)
		}
	}
}

// countActor closes done when it has received want ticks.
type countActor struct {
	want, got int
	done      chan struct{}
}

func (a *countActor) Receive(c pa.Context) {
	if _, ok := c.Message().(*tick); ok {
		a.got++
		if a.got == a.want {
			close(a.done)
		}
	}
}

// paSend has one actor send n one-way messages to another.
func paSend(tb testing.TB, parked bool, n int) {
	node := newPANode(parked)
	defer node.close()
	counter := &countActor{want: n, done: make(chan struct{})}
	to := node.spawn(counter)
	from := node.spawn(&senderActor{to: to})
	resetTimer(tb)
	node.as.Root.Send(from, &burst{n: n})
	<-counter.done
	stopTimer(tb)
}

func benchPASend(b *testing.B, parked bool) {
	b.ReportAllocs()
	paSend(b, parked, b.N)
	perSecond(b, "msgs/s")
}

// BenchmarkBaselineProtoactorSend: one op is one one-way message between
// two raw protoactor actors (default dispatcher).
func BenchmarkBaselineProtoactorSend(b *testing.B) { benchPASend(b, false) }

// BenchmarkProtoactorParkedSend: the same with parked goroutines.
func BenchmarkProtoactorParkedSend(b *testing.B) { benchPASend(b, true) }

// started closes its channel when the actor has started.
type startedActor struct{ ready chan struct{} }

func (a *startedActor) Receive(c pa.Context) {
	if _, ok := c.Message().(*pa.Started); ok {
		close(a.ready)
	}
}

// BenchmarkBaselineProtoactorSpawn: one op spawns one raw protoactor actor
// and waits until it has started (as tern's Launch waits for Init). Actors
// are stopped, untimed, every 1000.
func BenchmarkBaselineProtoactorSpawn(b *testing.B) {
	b.ReportAllocs()
	for left := b.N; left > 0; {
		k := min(left, spawnRound)
		left -= k
		node := newPANode(false)
		for range k {
			a := &startedActor{ready: make(chan struct{})}
			node.spawn(a)
			<-a.ready
		}
		b.StopTimer()
		node.close()
		b.StartTimer()
	}
	perSecond(b, "services/s")
}

// BenchmarkBaselineProtoactorIdleHeap: the heap and stack that
// idleServices idle raw protoactor actors hold (default dispatcher: no
// goroutine while idle), measured as BenchmarkIdleHeap measures tern's.
func BenchmarkBaselineProtoactorIdleHeap(b *testing.B) {
	b.ReportAllocs()
	m := newIdleMeter()
	for range b.N {
		node := newPANode(false)
		warm := &startedActor{ready: make(chan struct{})}
		node.spawn(warm)
		<-warm.ready
		m.before()
		for range idleServices {
			a := &startedActor{ready: make(chan struct{})}
			node.spawn(a)
			<-a.ready
		}
		m.after(idleServices)
		b.StopTimer()
		node.close()
		m.closed()
		b.StartTimer()
	}
	m.report(b)
}

// idleMeter measures what live services hold: Go heap, goroutine stacks
// and resident memory, each per service, averaged over the runs.
type idleMeter struct {
	goroutines       int // with no system up
	ms0              runtime.MemStats
	rss0             int64
	heap, stack, rss float64
	runs             int
}

func newIdleMeter() *idleMeter {
	return &idleMeter{goroutines: settledGoroutines()}
}

// settledGoroutines is the goroutine count once it stops changing.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			break
		}
		n = m
	}
	return n
}

// closed waits, after a run's system is closed, until its goroutines
// are gone. Close returns once every service has finished, but a
// service's goroutine exits a moment later, and until then its stack
// keeps the service (a whole Lua VM) reachable: the next run's "before"
// would count it, and its "after" find it freed.
func (m *idleMeter) closed() {
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > m.goroutines && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// collect frees everything unreachable and gives the freed pages back to
// the OS, so that RSS is comparable. Twice: what sits in a sync.Pool
// survives one collection (gopher-lua pools the call-stack segments of
// closed VMs, and they still point into the dead VM).
func collect() {
	runtime.GC()
	debug.FreeOSMemory()
}

func (m *idleMeter) before() {
	collect()
	runtime.ReadMemStats(&m.ms0)
	m.rss0 = rssBytes()
}

func (m *idleMeter) after(n int) {
	collect()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heap += (float64(ms.HeapAlloc) - float64(m.ms0.HeapAlloc)) / float64(n)
	m.stack += (float64(ms.StackInuse) - float64(m.ms0.StackInuse)) / float64(n)
	m.rss += float64(rssBytes()-m.rss0) / float64(n)
	m.runs++
}

func (m *idleMeter) report(b *testing.B) {
	if m.runs == 0 {
		return
	}
	r := float64(m.runs)
	b.ReportMetric(m.heap/r, "B/service")
	b.ReportMetric(m.stack/r, "stack-B/service")
	b.ReportMetric(m.rss/r, "RSS-B/service")
}
