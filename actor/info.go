package actor

import (
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
// console and the admin API).
type Info struct {
	Addr    Addr
	Name    string
	Script  string
	State   State
	Started time.Time
	Queued  int    // messages waiting in its mailbox
	Handled uint64 // messages it has handled
	Tasks   int    // its live tasks (Lua coroutines running or suspended)
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
	return Info{Addr: p.addr, Name: p.name, Script: p.script, State: st, Started: p.started, Queued: p.mb.UserMessageCount(), Handled: p.mb.handled.Load(), Tasks: int(p.tasks.Load())}
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
