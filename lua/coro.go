package lua

import (
	"strings"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// A coro is one pooled coroutine of a service VM that runs tasks.
// Creating a gopher-lua coroutine costs tens of microseconds; reusing one
// costs well under one, so every task (one per request, fork or timeout)
// and every protected call (pcall, xpcall) runs in a coroutine taken from
// a pool: tasks from s.free, protected calls from the VM's pcall pool
// (coapi.go's getco and putco).
// The coroutine's body is the prelude's loop:
//
//	loop(f, ...)  -->  return loop(yield(DONE, f(...)))
//
// so one resume with (f, args) runs f and yields DONE with its results.
// Tasks are registered in s.threads; pcall coroutines are not: only the
// pool or the pcall waiting on one references them, so one that is
// abandoned (suspended in a script's coroutine nobody resumes) is garbage.
type coro struct {
	s  *Service
	th *glua.LState

	// Task state: the Call to answer when the task ends.
	from     actor.Addr
	session  uint32
	cmd      string
	boot     bool        // the service's first task (init), or a reload's on_restore
	onEnd    func(error) // a boot task's outcome goes here
	request  bool        // serves a request (or on_shutdown): counted in flight
	deferred bool        // tern.response() took over the answer

	wait waitState // what the suspended task waits for (wait.go)

	trace string // the traceback of the error that ended a task

	tag   string // the task's trace tag (tern.trace, or its request's): trace.go
	began int64  // a request's start, on the tick clock (actor.Ticks)
}

// nop is the first function a pooled coroutine runs: it starts the loop.
var nop = &glua.LFunction{IsG: true, GFunction: func(*glua.LState) int { return 0 }}

// startLoop makes a coroutine and runs it to the loop's first yield(DONE),
// resumed from L (the thread running now, so gopher-lua's idea of the
// current thread stays right). The loop is then the bottom of its stack
// for good (its tail calls reuse the frame), which tells pooled
// coroutines apart (isPcallCo).
func (s *Service) startLoop(L *glua.LState) *glua.LState {
	th, _ := L.NewThread()
	patchStack(th)
	L.Resume(th, s.body, nop)
	return th
}

// newCoro makes a task's coroutine.
func (s *Service) newCoro(L *glua.LState) *coro {
	c := &coro{s: s, th: s.startLoop(L)}
	// Set after the first resume: gopher-lua resets Panic when a thread starts.
	c.th.Panic = c.hook
	s.threads[c.th] = c
	if testHookNewCo != nil {
		testHookNewCo(c.th)
	}
	return c
}

// newPcallCo makes a pcall coroutine.
func (s *Service) newPcallCo(L *glua.LState) *glua.LState {
	th := s.startLoop(L)
	th.Panic = s.pcallHook
	if testHookNewCo != nil {
		testHookNewCo(th)
	}
	return th
}

// testHookNewCo, when set by a test, sees every pooled coroutine made.
var testHookNewCo func(*glua.LState)

// The error hooks: gopher-lua calls a thread's Panic where an error is
// raised, before unwinding, so the stack is still there. Each moves an
// error position inside the prelude to the script line that called
// (relocate), then lets the error unwind as usual.

// hook is a task's error hook. The error ends the task, and its message
// goes to the log with the traceback and to the caller, so it becomes
// text here, where a __tostring metamethod can still run.
func (c *coro) hook(L *glua.LState) {
	s := c.s
	obj := s.errorText(L, s.relocate(L, L.Get(-1)))
	c.trace = s.traceback(L, obj)
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: obj})
}

// pcallHook is a pcall coroutine's error hook. An xpcall handler runs
// here (as in C Lua), where the error was raised, with the stack still
// there (so debug.traceback works); what it returns is what xpcall
// returns.
func (s *Service) pcallHook(L *glua.LState) {
	obj := s.relocate(L, L.Get(-1))
	if s.vm != nil {
		if xh := s.vm.xh; len(xh) > 0 && xh[len(xh)-1].th == L {
			obj = s.callHandler(L, xh[len(xh)-1].h, obj)
		}
	}
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: obj})
}

// userHook is the error hook of a script's own coroutine.
func (s *Service) userHook(L *glua.LState) {
	panic(&glua.ApiError{Type: glua.ApiErrorRun, Object: s.relocate(L, L.Get(-1))})
}

// relocate moves an error message's position out of the prelude: an error
// raised by tern.call (the prelude's wrapper), by a Go function the
// prelude called for the script (bad arguments), or by pcall itself
// says "=prelude:155:". It gets the position of the innermost script frame
// instead, looking through pcall coroutines into the code that called
// pcall; with none (a handler that ended in "return tern.call(...)", a
// tail call, leaves no frame of its own), no position.
func (s *Service) relocate(L *glua.LState, obj glua.LValue) glua.LValue {
	obj = namedLimit(obj) // guards.go
	msg, ok := obj.(glua.LString)
	if !ok || !strings.HasPrefix(string(msg), preludeName+":") {
		return obj
	}
	rest := string(msg[len(preludeName)+1:])
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || !strings.HasPrefix(rest[i:], ": ") {
		return obj
	}
	rest = rest[i+2:]
	for th := L; th != nil; th = th.Parent {
		if pos := scriptPos(th); pos != "" {
			return glua.LString(pos + " " + rest)
		}
		if !s.isPcallCo(th) {
			break
		}
	}
	return glua.LString(rest)
}

// errorText is the text of an error object that leaves the VM: a string
// or a number as it is, what __tostring makes of a table or a userdata,
// and else, as Lua's own interpreter says, the value's type.
func (s *Service) errorText(L *glua.LState, obj glua.LValue) glua.LString {
	switch v := obj.(type) {
	case glua.LString:
		return v
	case glua.LNumber:
		return glua.LString(v.String())
	}
	if f := L.GetMetaField(obj, "__tostring"); f != glua.LNil {
		L.Push(f)
		L.Push(obj)
		if err := L.PCall(1, 1, nil); err == nil {
			v := L.Get(-1)
			L.Pop(1)
			if str, ok := v.(glua.LString); ok {
				return str
			}
		}
	}
	return glua.LString("(error object is a " + obj.Type().String() + " value)")
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
	return c
}

const maxFreeTasks = 32

// putTask returns a finished task's coroutine to the pool.
func (s *Service) putTask(c *coro) {
	c.from, c.session, c.cmd, c.boot, c.request, c.deferred, c.trace, c.onEnd, c.tag, c.began = 0, 0, "", false, false, false, "", nil, "", 0
	if len(s.free) < maxFreeTasks {
		shrinkStack(c.th)
		s.free = append(s.free, c)
		return
	}
	delete(s.threads, c.th)
}

// dropTask forgets a coroutine that died (raised) or can never resume.
func (s *Service) dropTask(c *coro) {
	delete(s.threads, c.th)
}
