package actor

import (
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

// State is where a service is in its life.
type State int32

const (
	Starting     State = iota // spawned, Init not finished
	Running                   // serving
	ShuttingDown              // got Shutdown: finishing what is in flight
	Stopped                   // stopping or gone
)

var stateNames = [...]string{"starting", "running", "shutting down", "stopped"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state?"
}

// Info describes a live service, for listings (the name service, the
// console and the admin API). Its statistics are kept for every service,
// always: counting costs a few plain increments a message, and a turn
// (the messages a worker handles in a row for one service) reads a
// shared tick clock twice.
type Info struct {
	Addr    Addr
	Name    string
	Script  string
	State   State
	Started time.Time
	Queued  int    // messages waiting in its mailbox now
	Peak    int    // the most messages ever waiting in its mailbox (its high-water mark)
	Handled uint64 // messages in: requests, answers and timer firings taken from its mailbox and handled
	Sent    uint64 // messages out: requests, answers and forwards it posted
	// Errors counts what went wrong in or for the service: the requests
	// it failed (a Fail answer: an error its handler raised or returned,
	// a panic, a refusal while shutting down), panics in handlers of
	// one-way messages, and its own posts refused (no such service, a
	// full mailbox).
	Errors uint64
	// Busy is the time the service spent handling messages: the wall
	// time of its turns, on a shared clock that ticks every millisecond
	// (tickClock), the way an operating system's tick accounting
	// measures CPU time. A turn shorter than a tick counts as a whole
	// tick or nothing, in proportion to its length, so the sum is right
	// on average and close for a busy service (error about the square
	// root of Busy times the tick), but coarse for one that has handled
	// a few short messages. A handler does not block its worker (it
	// suspends a task instead), so this is the CPU time the service used,
	// but for a Go handler that blocks in a system call.
	Busy time.Duration
	// Wall is the wall time of the requests it finished: from the start
	// of a request's handling to its end, suspended time included (a Lua
	// task waiting in tern.call or tern.sleep), on the same tick clock.
	// Busy is the CPU part of it; Wall minus Busy is mostly waiting. A
	// Go service's requests end in their turn: there Wall is about Busy.
	Wall    time.Duration
	Reloads uint64 // times it was reloaded in place (a new Lua VM)
	Tasks   int    // its live tasks (Lua coroutines running or suspended)
	Memory  int64  // bytes it holds, an estimate; 0 when unknown
}

// Services lists the services, oldest first: the live ones, and those
// stopping but not yet finished (State Stopped), such as one whose
// handler never returns.
func (s *System) Services() []Info {
	ps := s.procs.all()
	infos := make([]Info, 0, len(ps))
	for _, p := range ps {
		infos = append(infos, p.info())
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Addr < infos[j].Addr })
	return infos
}

// Info describes the service at a, live or not yet finished stopping.
func (s *System) Info(a Addr) (Info, bool) {
	if p := s.procs.get(a); p != nil {
		return p.info(), true
	}
	return Info{}, false
}

func (p *proc) info() Info {
	st := State(p.state.Load())
	if p.stopping.Load() {
		st = Stopped
	}
	queued, peak, in := p.mb.counts()
	return Info{Addr: p.addr, Name: p.name, Script: p.script, State: st, Started: p.started,
		Queued: queued, Peak: peak, Handled: in, Sent: p.sentOut.Load(), Errors: p.errors.Load(),
		Busy: time.Duration(p.busy.Load()), Wall: p.wallTime(), Reloads: p.reloads.Load(), Tasks: int(p.tasks.Load()), Memory: p.memory.Load()}
}

// publish makes what the service counted in plain fields since the last
// publish visible to listings, and adds the time since its turn began
// (mailbox.t0) to Busy. Only the goroutine running the service's turn
// calls it, before the service can go idle: another worker may run the
// next turn.
func (p *proc) publish() {
	m := &p.mb
	if now := clock.read(); now != m.t0 {
		p.busy.Add(now - m.t0)
		m.t0 = now
	}
	if p.sent != p.sentOut.Load() {
		p.sentOut.Store(p.sent)
	}
}

// Ticks is the shared tick clock's time, in nanoseconds since the
// process began: one atomic load, to a millisecond (see Info.Busy).
func Ticks() int64 { return clock.read() }

// AddWall adds to the wall time of the requests the service finished
// (Info.Wall): a service whose requests outlive their turn (a Lua task)
// reports each as it ends.
func (c *Context) AddWall(ns int64) {
	if !c.p.walls.Load() {
		c.p.walls.Store(true)
	}
	c.p.wall.Add(ns)
}

// wallTime is Info.Wall: what the service reported (AddWall), or, for
// one that answers in its turn (a Go service), its busy time.
func (p *proc) wallTime() time.Duration {
	if p.walls.Load() {
		return time.Duration(p.wall.Load())
	}
	return time.Duration(p.busy.Load())
}

// tickClock is a monotonic clock (nanoseconds since the process began)
// read with one atomic load: a goroutine stores the time every tick, and
// sleeps (stops ticking) once no turn has read it for sleepAfter ticks;
// the next read wakes it. Reading the system clock itself (vDSO
// clock_gettime) costs 25 to 50 ns under a hypervisor, a tenth of a
// Go-to-Go call round trip; two reads a turn would show in it.
type tickClock struct {
	now   atomic.Int64
	state atomic.Int32 // clockAsleep, clockWaking, clockIdle or clockUsed
}

const (
	clockAsleep int32 = iota // no goroutine ticks: the next read starts one
	clockWaking              // a read is starting it
	clockIdle                // ticking; not read since the last tick
	clockUsed                // ticking; read since the last tick

	tick       = time.Millisecond
	sleepAfter = 50 // idle ticks before the clock goroutine exits
)

// clock is the process's tick clock, shared by every System.
var clock tickClock

// epoch is the origin of the tick clock.
var epoch = time.Now()

// read returns the clock's time. It is a load and a compare, but once a
// tick (the first read then marks the clock used) or after a sleep.
func (c *tickClock) read() int64 {
	if c.state.Load() != clockUsed {
		c.use()
	}
	return c.now.Load()
}

func (c *tickClock) use() {
	for {
		switch s := c.state.Load(); s {
		case clockUsed:
			return
		case clockIdle:
			if c.state.CompareAndSwap(clockIdle, clockUsed) {
				return
			}
		case clockAsleep:
			if c.state.CompareAndSwap(clockAsleep, clockWaking) {
				// The time is fresh before anyone reads it: a stale one
				// would count the whole sleep into a turn.
				c.now.Store(int64(time.Since(epoch)))
				go c.run()
				c.state.Store(clockUsed)
				return
			}
		case clockWaking:
			runtime.Gosched()
		}
	}
}

// run ticks until the clock has gone unread for sleepAfter ticks.
func (c *tickClock) run() {
	t := time.NewTicker(tick)
	defer t.Stop()
	idle := 0
	for range t.C {
		c.now.Store(int64(time.Since(epoch)))
		if c.state.CompareAndSwap(clockUsed, clockIdle) {
			idle = 0
			continue
		}
		if idle++; idle >= sleepAfter && c.state.CompareAndSwap(clockIdle, clockAsleep) {
			return
		}
	}
}

// OnExit registers fn to run, on the exiting service's goroutine, each
// time a service stops. fn must not block.
func (s *System) OnExit(fn func(Addr)) {
	for {
		old := s.exitHooks.Load()
		var hooks []func(Addr)
		if old != nil {
			hooks = append(hooks, *old...)
		}
		hooks = append(hooks, fn)
		if s.exitHooks.CompareAndSwap(old, &hooks) {
			return
		}
	}
}

type exitHooks = atomic.Pointer[[]func(Addr)]
