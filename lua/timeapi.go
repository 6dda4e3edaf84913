package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"
)

// Timers and waiting: tern.sleep, tern.timeout, tern.wait and tern.wakeup, tern.fork, tern.now.

func millis(ms glua.LNumber) time.Duration {
	if ms < 0 {
		ms = 0
	}
	return time.Duration(float64(ms) * float64(time.Millisecond))
}

// sleep(ms) suspends the task for ms milliseconds.
func lSleep(s *Service, L *glua.LState) int {
	ms := L.CheckNumber(1)
	s.mustYield(L, "tern.sleep")
	session := s.c.NewSession()
	s.waiting[session] = waiter{co: s.cur, kind: waitSleep}
	s.c.After(millis(ms), session)
	return suspend(L)
}

// wait([token]) suspends the task until wakeup(token). The token defaults
// to the running coroutine.
func lWait(s *Service, L *glua.LState) int {
	token := L.Get(1)
	if token == glua.LNil {
		token = L
	}
	s.mustYield(L, "tern.wait")
	if s.tokens == nil {
		s.tokens = make(map[glua.LValue]*coro)
	}
	if _, taken := s.tokens[token]; taken {
		L.RaiseError("tern.wait: another task already waits on %s", token.String())
	}
	s.tokens[token] = s.cur
	return suspend(L)
}

// wakeup(token) -> bool: resumes the task waiting on token after the
// current one suspends or ends. False if nobody waits on it.
func lWakeup(s *Service, L *glua.LState) int {
	token := L.CheckAny(1)
	co, ok := s.tokens[token]
	if ok {
		delete(s.tokens, token)
		s.ready = append(s.ready, readyTask{co: co})
	}
	L.Push(glua.LBool(ok))
	return 1
}

// fork(fn, ...) runs fn(...) in a new task after the current one.
func lFork(s *Service, L *glua.LState) int {
	fn := L.CheckFunction(1)
	args := make([]glua.LValue, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	s.ready = append(s.ready, readyTask{fn: fn, args: args})
	return 0
}

// timeout(ms, fn) runs fn in a new task after ms milliseconds.
func lTimeout(s *Service, L *glua.LState) int {
	ms, fn := L.CheckNumber(1), L.CheckFunction(2)
	session := s.c.NewSession()
	if s.timeouts == nil {
		s.timeouts = make(map[uint32]glua.LValue)
	}
	s.timeouts[session] = fn
	s.c.After(millis(ms), session)
	return 0
}

// now() -> milliseconds since the runtime started.
func lNow(s *Service, L *glua.LState) int {
	L.Push(glua.LNumber(s.c.System().Now().Milliseconds()))
	return 1
}
