package lua

import (
	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// A coro is one pooled coroutine of a service VM. Creating a gopher-lua
// coroutine costs tens of microseconds; reusing one costs well under one,
// so every task (one per request, fork or timeout) and every protected
// call (pcall, xpcall) runs in a coroutine taken from a pool. The
// coroutine's body is the prelude's loop:
//
//	loop(f, ...)  -->  return loop(yield(DONE, f(...)))
//
// so one resume with (f, args) runs f and yields DONE with its results.
type coro struct {
	s  *Service
	th *glua.LState

	// Task state: the Call to answer when the task ends.
	from     actor.Addr
	session  uint32
	cmd      string
	task     bool // runs as a scheduler task (vs. inside pcall)
	boot     bool // the service's first task: main chunk and init
	request  bool // serves a request (or on_shutdown): counted in flight
	deferred bool // tern.response() took over the answer

	handler glua.LValue // xpcall's message handler, nil otherwise
	trace   string      // the traceback of the error that ended a task
}

// newCoro starts a coroutine on the loop body, resumed from L (the thread
// running now, so gopher-lua's idea of the current thread stays right).
func (s *Service) newCoro(L *glua.LState) *coro {
	th, _ := L.NewThread()
	c := &coro{s: s, th: th}
	L.Resume(th, s.body) // runs to the loop's first yield(DONE)
	// Set after the first resume: gopher-lua resets Panic when a thread starts.
	th.Panic = c.hook
	s.threads[th] = c
	return c
}

// hook is the coroutine's error hook: gopher-lua calls it where an error
// is raised, before unwinding, so the stack is still there. An xpcall
// handler runs here (as in C Lua); a task records its traceback for the
// log. Then the error unwinds as usual.
func (c *coro) hook(L *glua.LState) {
	obj := L.Get(-1)
	switch {
	case c.handler != nil:
		obj = c.s.callHandler(L, c.handler, obj)
	case c.task:
		c.trace = c.s.traceback(L, obj)
	}
	if !c.task {
		delete(c.s.threads, c.th) // a pcall coroutine dies with its error
	}
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: obj})
}

func (s *Service) callHandler(L *glua.LState, h, obj glua.LValue) glua.LValue {
	L.Push(h)
	L.Push(obj)
	if err := L.PCall(1, 1, nil); err != nil {
		return glua.LString("error in error handling: " + err.Error())
	}
	v := L.Get(-1)
	L.Pop(1)
	return v
}

func (s *Service) traceback(L *glua.LState, obj glua.LValue) string {
	L.Push(s.tracebackFn)
	L.Push(obj)
	if err := L.PCall(1, 1, nil); err != nil {
		return obj.String()
	}
	tb := L.Get(-1).String()
	L.Pop(1)
	return tb
}

// getTask takes a coroutine from the pool for a new task.
func (s *Service) getTask() *coro {
	var c *coro
	if n := len(s.free); n > 0 {
		c = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		c = s.newCoro(s.L)
	}
	c.task = true
	return c
}

const maxFreeTasks = 32

// putTask returns a finished task's coroutine to the pool.
func (s *Service) putTask(c *coro) {
	c.from, c.session, c.cmd, c.task, c.boot, c.request, c.deferred, c.trace = 0, 0, "", false, false, false, false, ""
	if len(s.free) < maxFreeTasks {
		s.free = append(s.free, c)
		return
	}
	delete(s.threads, c.th)
}

// dropTask forgets a coroutine that died (raised) or can never resume.
func (s *Service) dropTask(c *coro) {
	delete(s.threads, c.th)
}
