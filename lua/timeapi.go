package lua

import (
	"math"
	"strconv"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// Timers and waiting: tern.sleep, tern.timeout, tern.wait and tern.wakeup, tern.fork, tern.now.

// MaxMillis is the longest duration tern.sleep, tern.timeout,
// tern.calltimeout and tern.query accept: 30 days, in milliseconds.
const MaxMillis = 30 * 24 * 3600 * 1000

// checkMillis reads argument n, a duration in milliseconds, for function
// fname ("tern.sleep"). A negative duration counts as 0 (as in skynet);
// NaN, an infinity or more than MaxMillis raises an error naming the
// argument, instead of overflowing time.Duration.
func checkMillis(L *glua.LState, n int, fname string) time.Duration {
	ms := float64(L.CheckNumber(n))
	switch {
	case ms != ms || math.IsInf(ms, 0):
		L.RaiseError("%s: bad argument #%d (ms): %s is not a finite duration", fname, n, numString(ms))
	case ms > MaxMillis:
		L.RaiseError("%s: bad argument #%d (ms): %s is longer than the maximum of %d ms (30 days)", fname, n, numString(ms), MaxMillis)
	case ms < 0:
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// numString formats a Lua number for an error message: integers without
// an exponent up to 2^63, "inf", "-inf" and "nan" as Lua 5.3 prints them.
func numString(f float64) string {
	switch {
	case f != f:
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == math.Trunc(f) && math.Abs(f) < 1<<63:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sleep(ms) suspends the task for ms milliseconds.
func lSleep(s *Service, L *glua.LState) int {
	ms := checkMillis(L, 1, "tern.sleep")
	s.mustYield(L, "tern.sleep")
	session := s.c.NewSession()
	s.await(session, waitState{kind: waitSleep})
	s.c.After(ms, session)
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
	ms, fn := checkMillis(L, 1, "tern.timeout"), L.CheckFunction(2)
	session := s.c.NewSession()
	s.c.Await(session, &timeoutTask{s: s, fn: fn})
	s.c.After(ms, session)
	return 0
}

// now() -> milliseconds since the runtime started.
func lNow(s *Service, L *glua.LState) int {
	L.Push(glua.LNumber(s.c.System().Now().Milliseconds()))
	return 1
}
