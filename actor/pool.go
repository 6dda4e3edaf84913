package actor

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// pool is the set of workers that run services, as skynet's and ltask's
// worker threads do: a fixed number of workers (GOMAXPROCS by default)
// run whichever services have messages, so an idle service holds no
// goroutine, and a service made ready by another runs on the same worker
// right after it, with no hand-off between goroutines.
//
// Scheduling, after Go's own scheduler (runtime/proc.go):
//  1. A service made ready by the service running on worker w goes into
//     w's runnext slot: w runs it as soon as the current turn ends. A
//     ping-pong stays on one worker and wakes nobody. The service it
//     displaces goes to the tail of w's local queue, and an idle worker
//     is woken to steal it.
//  2. A service made ready from outside any worker (Go code, timers, a
//     dedicated service) goes into the global queue, and an idle worker
//     is woken unless one is already on its way.
//  3. A worker looks for work in its runnext slot, its local queue, the
//     global queue (first, once every 61 looks, so it never starves),
//     then steals half of another worker's local queue; then it parks.
//  4. A turn handles at most throughput messages; a service with more
//     goes to the tail of the local queue.
//  5. The monitor, one goroutine ticking while any worker is busy, hands
//     the queued work of a worker whose turn has lasted a tick to the
//     global queue and wakes an idle worker for it; and it replaces a
//     worker whose turn has lasted stuckTicks (a runaway handler, a Go
//     call that blocks) with a new one. The stuck worker retires when
//     its handler returns.
//
// Lock order: pool.mu before worker.mu.
type pool struct {
	sys  *System
	size int // workers running services, stuck ones not counted

	mu      sync.Mutex
	global  mbRing
	idle    []*worker // parked, waiting on their wake channel
	workers []*worker // the active ones
	stopped bool

	nglobal  atomic.Int32 // global.len(), read without mu
	nidle    atomic.Int32 // len(idle), read without mu
	spinning atomic.Int32 // woken workers that have not found work yet
	kick     chan struct{}
	stop     chan struct{}
	done     sync.WaitGroup

	// The monitor's limits on one handler run (SetMonitor), in
	// nanoseconds; 0 is off.
	warnAfter atomic.Int64
	killAfter atomic.Int64
}

// worker is one goroutine of the pool.
type worker struct {
	p *pool
	// runnext is the service to run after the current turn; thieves take
	// it too, so it is swapped atomically.
	runnext atomic.Pointer[mailbox]
	mu      sync.Mutex // guards local
	local   mbRing
	looks   uint32 // find calls, for the global queue's fair share

	wake chan struct{}
	// turns counts turn starts and ends: odd while in a turn, and the
	// same odd value for as long as one turn lasts (the monitor's clue).
	turns atomic.Uint64
	cur   atomic.Pointer[mailbox] // the service of the latest turn
	last  *mailbox                // cur, for the worker's own goroutine
	// retired: replaced while stuck, the worker exits after its turn.
	retired atomic.Bool
}

const (
	// monitorTick is how often the monitor looks at busy workers.
	monitorTick = time.Millisecond
	// stuckTicks is how many ticks one turn may last before its worker
	// is replaced: a few milliseconds.
	stuckTicks = 5
	// globalEvery is how often, in looks for work, a worker takes from
	// the global queue before its own.
	globalEvery = 61
	// spinLooks is how many more times a worker that found no work looks
	// again, yielding in between, before it parks: parking and waking
	// cost more than a short spin when work comes in bursts.
	spinLooks = 50
)

func newPool(sys *System, size int) *pool {
	p := &pool{sys: sys, size: size, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	p.warnAfter.Store(int64(DefaultWarnAfter))
	p.mu.Lock()
	for range size {
		p.startWorker()
	}
	p.mu.Unlock()
	p.done.Add(1)
	go p.monitor()
	return p
}

// startWorker adds a worker. p.mu is held.
func (p *pool) startWorker() {
	w := &worker{p: p, wake: make(chan struct{}, 1)}
	// A new slice each time: others range over old ones outside p.mu.
	p.workers = append(slices.Clip(p.workers), w)
	p.done.Add(1)
	go w.loop()
}

// ready queues m, made ready by the service running on worker from (nil
// for any other goroutine).
func (p *pool) ready(m *mailbox, from *worker) {
	if from != nil && !from.retired.Load() {
		old := from.runnext.Swap(m)
		if old != nil {
			from.mu.Lock()
			from.local.push(old)
			from.mu.Unlock()
		}
		// m waits for the end of the current turn, and wakes nobody: a
		// call and its answer stay on one worker. (Waking a worker to
		// take m when the turn goes on was tried: on two cores, the
		// traffic between them cost more than the parallel work gained,
		// 0.7x on 100 coroutines calling one service.) A turn that lasts
		// is handed off by the monitor.
		if old != nil {
			p.wakeOne()
		}
		return
	}
	p.mu.Lock()
	p.global.push(m)
	p.nglobal.Store(int32(p.global.len()))
	p.mu.Unlock()
	p.wakeOne()
}

// wakeOne wakes an idle worker, unless none is idle or one is already on
// its way to look for work.
func (p *pool) wakeOne() {
	if p.nidle.Load() == 0 || p.spinning.Load() > 0 {
		return
	}
	p.mu.Lock()
	n := len(p.idle)
	if n == 0 || p.spinning.Load() > 0 {
		p.mu.Unlock()
		return
	}
	w := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	p.nidle.Add(-1)
	p.spinning.Add(1)
	p.mu.Unlock()
	w.wake <- struct{}{}
}

func (w *worker) loop() {
	p := w.p
	defer p.done.Done()
	woken := false
	for {
		m := w.find()
		if m == nil {
			if !woken {
				p.spinning.Add(1)
				woken = true
			}
			m = w.spin()
		}
		if woken {
			woken = false
			p.spinning.Add(-1)
		}
		if m == nil {
			if !w.park() {
				return
			}
			woken = true
			continue
		}
		w.run(m)
		if w.retired.Load() {
			return
		}
	}
}

// spin looks for work a few more times before the worker parks; it
// counts as spinning meanwhile, so nobody wakes another worker for work
// this one will find.
func (w *worker) spin() *mailbox {
	for range spinLooks {
		runtime.Gosched()
		if m := w.find(); m != nil {
			return m
		}
	}
	return nil
}

// run gives m one turn on w and queues it again if it has more.
func (w *worker) run(m *mailbox) {
	if w.last != m {
		w.last = m
		w.cur.Store(m)
	}
	w.turns.Add(1)
	more := m.turn(w)
	w.turns.Add(1)
	if !more {
		return
	}
	if w.retired.Load() {
		w.p.ready(m, nil)
		return
	}
	w.mu.Lock()
	w.local.push(m)
	w.mu.Unlock()
}

// find returns the next service to run, or nil when there is none.
func (w *worker) find() *mailbox {
	p := w.p
	w.looks++
	if w.looks%globalEvery == 0 {
		if m := p.takeGlobal(w); m != nil {
			return m
		}
	}
	if m := w.runnext.Swap(nil); m != nil {
		return m
	}
	w.mu.Lock()
	var m *mailbox
	if w.local.len() > 0 {
		m = w.local.pop()
	}
	w.mu.Unlock()
	if m != nil {
		return m
	}
	if m := p.takeGlobal(w); m != nil {
		return m
	}
	return p.steal(w)
}

// takeGlobal takes one service from the global queue to run, and moves a
// fair share of the rest to w's local queue.
func (p *pool) takeGlobal(w *worker) *mailbox {
	if p.nglobal.Load() == 0 { // a miss is caught before parking
		return nil
	}
	p.mu.Lock()
	n := p.global.len()
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	m := p.global.pop()
	share := min((n-1)/len(p.workers), 64)
	if share > 0 {
		w.mu.Lock()
		for range share {
			w.local.push(p.global.pop())
		}
		w.mu.Unlock()
	}
	p.nglobal.Store(int32(p.global.len()))
	p.mu.Unlock()
	return m
}

// stealMax is the most one steal takes.
const stealMax = 64

// steal takes half of another worker's local queue.
func (p *pool) steal(w *worker) *mailbox {
	var buf [stealMax]*mailbox
	for _, v := range p.snapshot() {
		if v == w {
			continue
		}
		v.mu.Lock()
		n := min((v.local.len()+1)/2, stealMax)
		for i := range n {
			buf[i] = v.local.pop()
		}
		v.mu.Unlock()
		if n == 0 {
			continue
		}
		if n > 1 {
			w.mu.Lock()
			for _, m := range buf[1:n] {
				w.local.push(m)
			}
			w.mu.Unlock()
		}
		return buf[0]
	}
	return nil
}

// snapshot is the active workers now; the slice is never changed (see
// startWorker), so it may be read without p.mu.
func (p *pool) snapshot() []*worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers
}

// park waits until the worker is woken. It reports false when the worker
// must exit: the pool stopped, or the worker retired.
func (w *worker) park() bool {
	p := w.p
	p.mu.Lock()
	if p.stopped || w.retired.Load() {
		p.mu.Unlock()
		return false
	}
	if p.global.len() > 0 {
		p.mu.Unlock()
		p.spinning.Add(1) // the caller counts it down after its look
		return true
	}
	p.idle = append(p.idle, w)
	p.nidle.Add(1)
	p.mu.Unlock()
	// Work queued on a local queue meanwhile is seen here, or its pusher
	// sees this worker idle and wakes it.
	if p.stealable(w) {
		p.wakeOne()
	}
	<-w.wake
	select {
	case p.kick <- struct{}{}: // the monitor may be asleep
	default:
	}
	return !p.isStopped() && !w.retired.Load()
}

// stealable reports whether another worker has work queued.
func (p *pool) stealable(w *worker) bool {
	for _, v := range p.snapshot() {
		if v == w {
			continue
		}
		v.mu.Lock()
		n := v.local.len()
		v.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

func (p *pool) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// monitor watches busy workers; see the pool's comment, step 5. It also
// times each handler run (watch.go's handlerWatch): past
// Monitor.WarnAfter it logs a warning naming the service, the command and
// the running time, again each time that time doubles; past
// Monitor.KillAfter it asks the service to interrupt the handler. A
// replaced worker stays watched until its turn ends.
func (p *pool) monitor() {
	defer p.done.Done()
	last := map[*worker]*seen{}
	var held []*worker   // replaced while stuck, still in their turn
	var kills []killMark // runs asked to stop, until they end
	t := time.NewTicker(monitorTick)
	defer t.Stop()
	defer func() { clearKills(kills, true) }()
	for {
		select {
		case <-t.C:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		workers := p.workers
		allIdle := len(p.idle) == len(p.workers)
		p.mu.Unlock()
		kills = clearKills(kills, false)
		if allIdle && len(held) == 0 && len(kills) == 0 {
			clear(last)
			select { // sleep until a worker wakes
			case <-p.kick:
			case <-p.stop:
				return
			}
			continue
		}
		now := time.Now()
		warnAfter, killAfter := p.limits()
		for _, w := range workers {
			turn := w.turns.Load()
			if turn&1 == 0 {
				delete(last, w)
				continue
			}
			s := last[w]
			if s == nil || s.turn != turn {
				if s == nil {
					s = &seen{}
					last[w] = s
				}
				*s = seen{turn: turn}
				kills = s.time(p, w, now, warnAfter, killAfter, kills)
				continue
			}
			s.ticks++
			p.handOff(w)
			kills = s.time(p, w, now, warnAfter, killAfter, kills)
			if s.ticks == stuckTicks && p.replace(w, turn) {
				held = append(held, w)
			}
		}
		held = slices.DeleteFunc(held, func(w *worker) bool {
			s := last[w]
			if s == nil || w.turns.Load() != s.turn {
				delete(last, w)
				return true
			}
			kills = s.time(p, w, now, warnAfter, killAfter, kills)
			return false
		})
	}
}

// seen is what the monitor knows of a busy worker: its turn, how many
// ticks that turn has lasted, and the handler run it is in.
type seen struct {
	turn  uint64
	ticks int
	run   uint64    // the service's handler run (handlerWatch.seq); 0 before the first look
	since time.Time // when the monitor first saw the run
	warn  time.Duration
	kill  bool // the run has been asked to stop, or found unstoppable
}

// time times the handler run w is in: a warning past warnAfter (and at
// each doubling), an interruption past killAfter.
func (s *seen) time(p *pool, w *worker, now time.Time, warnAfter, killAfter time.Duration, kills []killMark) []killMark {
	m := w.cur.Load()
	if m == nil {
		return kills
	}
	h := &m.watch
	if o := m.owner; o != nil {
		warnAfter, killAfter = o.limits.monitor(warnAfter, killAfter)
	}
	run := m.runSeq()
	if run != s.run {
		s.run, s.since, s.warn, s.kill = run, now, warnAfter, false
		return kills
	}
	// The run began before the first look, up to a tick earlier; count
	// that tick (the warning then comes at about warnAfter, not later).
	ran := now.Sub(s.since) + monitorTick
	o := m.owner
	if o == nil {
		return kills
	}
	if s.warn > 0 && ran >= s.warn {
		for s.warn <= ran {
			s.warn *= 2
		}
		p.sys.log.Warn("a handler is running for a long time (maybe in an endless loop)",
			"service", o.name, "addr", o.addr.String(), "cmd", h.command(), "running", ran.Round(time.Millisecond))
	}
	if killAfter > 0 && ran >= killAfter && !s.kill {
		s.kill = true
		if fn := h.interrupt.Load(); fn != nil {
			p.sys.log.Warn("a handler ran past its budget; interrupting it",
				"service", o.name, "addr", o.addr.String(), "cmd", h.command(), "running", ran.Round(time.Millisecond), "kill_after", killAfter)
			h.budget.Store(int64(killAfter))
			h.kill.Store(run)
			(*fn)(true)
			kills = append(kills, killMark{w: w, turn: s.turn, m: m, run: run, fn: *fn})
		} else {
			p.sys.log.Warn("a handler ran past its budget; a Go service cannot be interrupted",
				"service", o.name, "addr", o.addr.String(), "cmd", h.command(), "running", ran.Round(time.Millisecond), "kill_after", killAfter)
		}
	}
	return kills
}

// handOff moves the work queued on w, busy in a long turn, to the global
// queue, and wakes an idle worker for it.
func (p *pool) handOff(w *worker) {
	var moved []*mailbox
	if m := w.runnext.Swap(nil); m != nil {
		moved = append(moved, m)
	}
	w.mu.Lock()
	for w.local.len() > 0 {
		moved = append(moved, w.local.pop())
	}
	w.mu.Unlock()
	if len(moved) == 0 {
		return
	}
	p.mu.Lock()
	for _, m := range moved {
		p.global.push(m)
	}
	p.nglobal.Store(int32(p.global.len()))
	p.mu.Unlock()
	p.wakeOne()
}

// replace retires w, stuck in turn, and starts a worker in its place, and
// reports whether it did. If the turn has ended meanwhile, it does nothing: checked under p.mu, which
// a worker takes to park, so a retired worker is never idle (an idle one
// woken to exit would leave the spinning count up, and nobody would be
// woken again).
func (p *pool) replace(w *worker, turn uint64) bool {
	m := w.cur.Load()
	p.mu.Lock()
	if p.stopped || w.retired.Load() || w.turns.Load() != turn {
		p.mu.Unlock()
		return false
	}
	w.retired.Store(true)
	p.workers = slices.DeleteFunc(slices.Clone(p.workers), func(x *worker) bool { return x == w })
	p.startWorker()
	p.mu.Unlock()
	p.handOff(w)
	if m != nil && m.owner != nil {
		o := m.owner
		p.sys.log.Warn("a handler has run for a long time; its worker is replaced (maybe an endless loop)",
			"service", o.name, "addr", o.addr.String(), "over", stuckTicks*monitorTick)
	}
	return true
}

// killMark is a run the monitor asked to stop: fn(false) once it ended.
type killMark struct {
	w    *worker
	turn uint64
	m    *mailbox
	run  uint64
	fn   func(bool)
}

// clearKills drops the marks of the runs that ended (all of them, when
// the pool stops) and tells their services.
func clearKills(kills []killMark, all bool) []killMark {
	return slices.DeleteFunc(kills, func(k killMark) bool {
		if !all && k.w.turns.Load() == k.turn && k.m.runSeq() == k.run {
			return false
		}
		k.m.watch.kill.CompareAndSwap(k.run, 0)
		k.fn(false)
		return true
	})
}

// Monitor configures the pool monitor's watch over handlers (see
// System.SetMonitor).
type Monitor struct {
	// WarnAfter: a handler running longer than this is named in a
	// warning, again each time its running time doubles. 0 means
	// DefaultWarnAfter; a negative value turns the warnings off.
	WarnAfter time.Duration
	// KillAfter: a Lua handler running longer than this is interrupted
	// (the Lua runtime raises an error in it). 0 turns it off, as does a
	// negative value. A Go handler cannot be interrupted: it is named in
	// a warning instead.
	KillAfter time.Duration
}

// DefaultWarnAfter is Monitor.WarnAfter when it is 0.
const DefaultWarnAfter = 5 * time.Second

// SetMonitor sets how the pool monitor watches handlers, from now on.
// Only services on the pool are watched, not dedicated ones. A handler's
// running time is that of one run: one message, or one resume of a Lua
// task; a task suspended in a blocking call (tern.call, tern.sleep) is not
// running.
func (s *System) SetMonitor(m Monitor) {
	if m.WarnAfter == 0 {
		m.WarnAfter = DefaultWarnAfter
	}
	s.pool.warnAfter.Store(int64(max(m.WarnAfter, 0)))
	s.pool.killAfter.Store(int64(max(m.KillAfter, 0)))
}

func (p *pool) limits() (warnAfter, killAfter time.Duration) {
	return time.Duration(p.warnAfter.Load()), time.Duration(p.killAfter.Load())
}

// handlerWatch is what the monitor knows of the handler a service runs:
// which run it is (one a message, and one more for each Lua task resumed
// after the first in a message) and the command it serves. The service's
// own goroutine writes it; the monitor reads it. A message's run costs
// an increment under the lock next takes anyway (no atomic operation);
// the command is published only when it changes.
type handlerWatch struct {
	seq   uint64 // runs begun, under the mailbox's mu
	fresh bool   // the run begun by the latest message has not been claimed (Context.Running)
	lua   bool   // the service names its runs itself (Context.SetInterrupt)

	// The command, published under a sequence lock: cmdSeq is odd while
	// cmdPtr and cmdLen change. cmd is the last one published, for the
	// service's goroutine only.
	cmdSeq atomic.Uint64
	cmdPtr atomic.Pointer[byte]
	cmdLen atomic.Int64
	cmd    string

	// interrupt is the service's way to stop a run (Context.SetInterrupt);
	// kill is the run asked to stop, budget the limit it ran past.
	interrupt atomic.Pointer[func(bool)]
	kill      atomic.Uint64
	budget    atomic.Int64
}

// runSeq is the handler run m is in (or its latest).
func (m *mailbox) runSeq() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.watch.seq
}

// begin starts the run of the message msg, taken from the mailbox (next
// has counted it in seq).
func (h *handlerWatch) begin(msg any) {
	h.fresh = true
	if h.lua {
		return
	}
	cmd := "(system message)"
	if m, ok := msg.(*Message); ok {
		switch m.Kind {
		case Call, Send:
			cmd = m.Cmd
		case Reply, Fail:
			cmd = "(answer)"
		case Timer:
			cmd = "(timer)"
		default:
			cmd = "(control)"
		}
	}
	h.setCmd(cmd)
}

func (h *handlerWatch) setCmd(cmd string) {
	if cmd == h.cmd {
		return
	}
	h.cmd = cmd
	h.cmdSeq.Add(1)
	h.cmdPtr.Store(unsafe.StringData(cmd))
	h.cmdLen.Store(int64(len(cmd)))
	h.cmdSeq.Add(1)
}

// command is the command of the run, read by the monitor.
func (h *handlerWatch) command() string {
	for range 100 {
		n := h.cmdSeq.Load()
		if n&1 == 0 {
			ptr, l := h.cmdPtr.Load(), h.cmdLen.Load()
			if h.cmdSeq.Load() == n {
				return strings.Clone(unsafe.String(ptr, int(l)))
			}
		}
		runtime.Gosched()
	}
	return "?"
}

// Running starts a new run of the service's handler, for the monitor:
// cmd is the command it serves. A Lua service calls it before each task
// it resumes (the first resume of a message continues the message's run).
func (c *Context) Running(cmd string) {
	m := &c.p.mb
	h := &m.watch
	if h.fresh {
		h.fresh = false
	} else {
		m.mu.Lock()
		h.seq++
		m.mu.Unlock()
	}
	h.setCmd(cmd)
}

// SetInterrupt makes the service interruptible: when a run goes past
// Monitor.KillAfter, the monitor calls fn(true), from its own goroutine,
// and fn(false) once that run has ended. Meanwhile Expired reports the
// budget to the run's code, which should stop. The service names its runs
// itself from now on (Running).
func (c *Context) SetInterrupt(fn func(on bool)) {
	h := &c.p.mb.watch
	h.lua = true
	h.interrupt.Store(&fn)
}

// Expired returns the budget (Monitor.KillAfter) the current run has run
// past, once the monitor has asked it to stop; else 0.
func (c *Context) Expired() time.Duration {
	m := &c.p.mb
	if k := m.watch.kill.Load(); k != 0 && k == m.runSeq() {
		return time.Duration(m.watch.budget.Load())
	}
	return 0
}

// close stops the workers once their turns end, and the monitor. Workers
// stuck in a handler are left behind.
func (p *pool) close() {
	p.mu.Lock()
	p.stopped = true
	idle := p.idle
	p.idle = nil
	p.nidle.Store(0)
	p.mu.Unlock()
	for _, w := range idle {
		w.wake <- struct{}{}
	}
	close(p.stop)
}

// mbRing is a growable FIFO of mailboxes.
type mbRing struct {
	buf  []*mailbox
	head int
	n    int
}

func (r *mbRing) len() int { return r.n }

func (r *mbRing) push(m *mailbox) {
	if r.n == len(r.buf) {
		size := max(2*len(r.buf), 16)
		buf := make([]*mailbox, size)
		k := copy(buf, r.buf[r.head:])
		copy(buf[k:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = m
	r.n++
}

func (r *mbRing) pop() *mailbox {
	m := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return m
}

// Schedule is protoactor's dispatcher interface, which tern's mailbox
// does not use: it schedules through ready.
func (p *pool) Schedule(fn func()) { go fn() }

// Throughput is protoactor's hint; the mailbox uses its own constant.
func (p *pool) Throughput() int { return throughput }
