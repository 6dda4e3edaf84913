package lua

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// MemoryLimit bounds what one Lua service may hold, by its estimate
// (memory.go), in bytes; 0 is no limit. config.lua's memory = { soft =
// bytes, hard = bytes }, for every Lua service (Config.Memory) or one
// declared service (actor.Limits).
//
//   - Past Soft, the log warns once (and again after the service has come
//     back under it).
//   - Past Hard, the service is stopped with an error line in the log: the
//     handler running is interrupted with an error (at its next loop
//     back-edge or call, as the budget does: budget.go), its callers get
//     errors, and the rest of the process goes on.
//
// The estimate is taken between messages, at most every memEvery (and
// never more than 2% of the service's time: a big VM takes longer to
// walk), and every memEvery during a handler that keeps running.
type MemoryLimit = actor.MemoryLimit

// memoryLimit is the service's limit: its own (a declared service's),
// field by field, else the runtime's.
func (s *Service) memoryLimit() MemoryLimit {
	m := s.rt.memory
	if l := s.c.Limits(); l != nil {
		if l.Memory.Soft != 0 {
			m.Soft = l.Memory.Soft
		}
		if l.Memory.Hard != 0 {
			m.Hard = l.Memory.Hard
		}
	}
	return m
}

// memEvery is how often a limited service's memory is estimated.
const memEvery = 100 * time.Millisecond

// memState is a limited service's memory bookkeeping.
type memState struct {
	limit  MemoryLimit
	next   time.Time // the next estimate between messages, not before
	warned bool      // past Soft, warned
	over   bool      // past Hard: the service stops
	last   Memory    // the latest estimate

	// A handler run under way (runStart, Unix ns; 0 between runs) that the
	// watch asked to estimate inside the run (due, armed with budgetArmed).
	runStart atomic.Int64
	due      atomic.Bool
}

// memWatch is the goroutine that asks long handler runs of limited
// services to estimate their memory; it runs while any exists.
var memWatch struct {
	mu       sync.Mutex
	services map[*Service]struct{}
}

func (s *Service) watchMemory() {
	memWatch.mu.Lock()
	defer memWatch.mu.Unlock()
	if memWatch.services == nil {
		memWatch.services = map[*Service]struct{}{}
	}
	if len(memWatch.services) == 0 {
		go memWatchLoop()
	}
	memWatch.services[s] = struct{}{}
}

func (s *Service) unwatchMemory() {
	memWatch.mu.Lock()
	defer memWatch.mu.Unlock()
	delete(memWatch.services, s)
}

func memWatchLoop() {
	t := time.NewTicker(memEvery)
	defer t.Stop()
	for range t.C {
		memWatch.mu.Lock()
		if len(memWatch.services) == 0 {
			memWatch.mu.Unlock()
			return
		}
		now := time.Now().UnixNano()
		for s := range memWatch.services {
			m := s.mem
			if start := m.runStart.Load(); start != 0 && now-start >= int64(memEvery) && m.due.CompareAndSwap(false, true) {
				armBudget(true)
			}
		}
		memWatch.mu.Unlock()
	}
}

// runBegins and runEnds bracket each resume of a limited service.
func (m *memState) runBegins() { m.runStart.Store(time.Now().UnixNano()) }

func (m *memState) runEnds() {
	m.runStart.Store(0)
	if m.due.CompareAndSwap(true, false) {
		armBudget(false)
	}
}

// checkMemoryInRun runs on the VM's goroutine, inside a handler, when the
// watch asked: an estimate, and past Hard an error raised in the handler
// (again at every back-edge and call until the run ends, so that the
// script's pcall cannot swallow it).
func (s *Service) checkMemoryInRun(L *glua.LState) {
	m := s.mem
	if m == nil || !m.due.Load() {
		return
	}
	if !m.over {
		s.measureMemory()
		if !m.over {
			if m.due.CompareAndSwap(true, false) {
				armBudget(false)
			}
			return
		}
	}
	L.RaiseError("%s", m.overError())
}

// checkMemory estimates between messages, when due, and stops a service
// past its hard limit.
func (s *Service) checkMemory() {
	m := s.mem
	now := time.Now()
	if !m.over && now.Before(m.next) {
		return
	}
	took := s.measureMemory()
	m.next = now.Add(max(memEvery, 50*took))
	if m.over {
		s.c.Logger().Error("service stopped: over its hard memory limit", "memory", m.last.Bytes, "hard", m.limit.Hard)
		s.c.Exit()
	}
}

// measureMemory takes an estimate, publishes it, and warns past Soft. It
// returns how long the walk took.
func (s *Service) measureMemory() time.Duration {
	m := s.mem
	start := time.Now()
	m.last = s.memory()
	took := time.Since(start)
	s.c.SetMemory(m.last.Bytes)
	switch b := m.last.Bytes; {
	case m.limit.Hard > 0 && b > m.limit.Hard:
		m.over = true
	case m.limit.Soft > 0 && b > m.limit.Soft && !m.warned:
		m.warned = true
		s.c.Logger().Warn("service over its soft memory limit", "memory", b, "soft", m.limit.Soft)
	case m.limit.Soft > 0 && b <= m.limit.Soft && m.warned:
		m.warned = false
		s.c.Logger().Info("service back under its soft memory limit", "memory", b, "soft", m.limit.Soft)
	}
	return took
}

func (m *memState) overError() string {
	return fmt.Sprintf("memory limit: the service holds %s, over its hard limit of %d B; it is stopped", m.last, m.limit.Hard)
}
