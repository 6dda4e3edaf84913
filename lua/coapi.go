package lua

import (
	"sync"

	glua "github.com/yuin/gopher-lua"
)

// The primitives behind the prelude's pcall, xpcall and coroutine library.
//
// pcall runs its function in a pooled coroutine (coro.go) so that it can
// be yielded across. That coroutine is a pass-through nobody should see:
// coroutine.running() inside it is the coroutine that called pcall (the
// task, or a script's own coroutine), and so is tern.wait's default
// token; coroutine.yield inside it yields that coroutine. A pcall
// coroutine is known by its stack: the prelude's loop at the bottom, and
// not resumed by the scheduler (which resumes only tasks).

// coAPI holds the prelude's coroutine primitives, merged into the raw
// table beside the api map's.
var coAPI = map[string]func(*Service, *glua.LState) int{
	"getco":    lGetCo,
	"putco":    lPutCo,
	"pass":     lPass,
	"uyield":   lUserYield,
	"xresume":  lXResume,
	"ucreate":  lUserCreate,
	"uresume":  lUserResume,
	"ustatus":  lUserStatus,
	"urunning": lUserRunning,
}

// vmState is the per-VM state of xpcall and require, made on first use
// (an idle service has none).
type vmState struct {
	pcalls  []*glua.LState // pcall coroutines ready for use
	xh      []xframe       // handlers of the xpcalls being resumed, innermost last
	loading []string       // modules being required, outermost first
}

func (s *Service) vmState() *vmState {
	if s.vm == nil {
		s.vm = &vmState{}
	}
	return s.vm
}

// xframe is an xpcall's coroutine and its message handler.
type xframe struct {
	th *glua.LState
	h  glua.LValue
}

// isPcallCo reports whether the running thread th is a pcall or xpcall
// coroutine.
func (s *Service) isPcallCo(th *glua.LState) bool {
	return th != s.L && th.Parent != s.L && rootFn(th) == s.body
}

// identity is what coroutine.running() returns in thread L: L itself, or
// for a pcall coroutine, the identity of the thread that resumed it.
func (s *Service) identity(L *glua.LState) *glua.LState {
	for L.Parent != nil && s.isPcallCo(L) {
		L = L.Parent
	}
	return L
}

// getco() -> a coroutine for pcall/xpcall, from the VM's pool; putco(co)
// gives it back when its function returned (one that raised is dead, and
// dropped).
func lGetCo(s *Service, L *glua.LState) int {
	vm := s.vmState()
	if n := len(vm.pcalls); n > 0 {
		L.Push(vm.pcalls[n-1])
		vm.pcalls[n-1] = nil
		vm.pcalls = vm.pcalls[:n-1]
		return 1
	}
	L.Push(s.newPcallCo(L))
	return 1
}

// maxFreePcalls bounds the pool: a burst of pcalls must not pin its
// coroutines forever.
const maxFreePcalls = 32

func lPutCo(s *Service, L *glua.LState) int {
	if vm := s.vmState(); len(vm.pcalls) < maxFreePcalls {
		vm.pcalls = append(vm.pcalls, L.CheckThread(1))
	}
	return 0
}

// xresume(co, h, ...) resumes xpcall's coroutine co as coroutine.resume
// does, with h the message handler of an error raised in it (coro.go).
// The handler is known only while co runs, so an xpcall abandoned while
// suspended (in a script's coroutine nobody resumes) leaves nothing behind.
func lXResume(s *Service, L *glua.LState) int {
	th := L.CheckThread(1)
	h := L.Get(2)
	L.Remove(2)
	vm := s.vmState()
	n0 := len(vm.xh)
	if h != glua.LNil {
		vm.xh = append(vm.xh, xframe{th, h})
	}
	defer func() {
		clear(vm.xh[n0:])
		vm.xh = vm.xh[:n0]
	}()
	return coResume()(L)
}

// coResume is gopher-lua's coroutine.resume.
var coResume = sync.OnceValue(func() glua.LGFunction {
	return sharedFunc(glua.CoroutineLibName, "resume").GFunction
})

// pass(...) yields the values on: a suspension passing up through pcall
// or a script coroutine towards the scheduler. A script's own yield (USER)
// only needs to reach the script's resume.
func lPass(s *Service, L *glua.LState) int {
	if L.Get(1) == userMark {
		return lUserYield(s, L)
	}
	s.mustYield(L, "yield")
	return -1
}

// uyield(USER, ...) is coroutine.yield: it yields the script's coroutine
// that runs now, through the pcalls between. Outside one (in a task), it
// raises as Lua does, which a pcall around it catches.
func lUserYield(s *Service, L *glua.LState) int {
	top := s.identity(L)
	if top == s.L || top.Parent == s.L {
		L.RaiseError("attempt to yield from outside a coroutine")
	}
	if !canYield(L, top) {
		L.RaiseError("attempt to yield across a metamethod, an iterator run by Go code, or a callback of table.sort, string.gsub and the like")
	}
	return -1
}

// ucreate(f) is coroutine.create. The coroutine is started at once on
// ubody, which waits for the first resume and then tail-calls f: started,
// it keeps the error hook set here (gopher-lua sets its own when a
// coroutine starts), which moves error positions out of the prelude
// (coro.go).
func lUserCreate(s *Service, L *glua.LState) int {
	f := L.CheckFunction(1)
	th, _ := L.NewThread()
	L.Resume(th, preludeFns().ubody, f)
	th.Panic = s.userHook
	L.Push(th)
	return 1
}

// uresume(co, ...) is coroutine.resume, refusing what only the runtime
// resumes: a task's coroutine, and any coroutine that is running or
// resumed another (gopher-lua would run it twice at once).
func lUserResume(s *Service, L *glua.LState) int {
	th := L.CheckThread(1)
	if !th.Dead && (th.Parent != nil || s.threads[th] != nil || th == s.L) {
		L.Push(glua.LFalse)
		L.Push(glua.LString("cannot resume non-suspended coroutine"))
		return 2
	}
	return coResume()(L)
}

// ustatus(co) is coroutine.status, seeing through pcall coroutines.
func lUserStatus(s *Service, L *glua.LState) int {
	th := L.CheckThread(1)
	st := "suspended"
	switch {
	case th.Dead:
		st = "dead"
	case th == s.identity(L):
		st = "running"
	case th.Parent != nil || s.threads[th] != nil:
		st = "normal" // it resumed the running one, or is a suspended task
	}
	L.Push(glua.LString(st))
	return 1
}

// lTernWait is tern.wait (timeapi.go's wait), with the token
// defaulting to coroutine.running(): the task's or the script coroutine's
// identity, also inside pcall.
func lTernWait(s *Service, L *glua.LState) int {
	if L.Get(1) == glua.LNil {
		L.SetTop(0)
		L.Push(s.identity(L))
	}
	return lWait(s, L)
}

// urunning() is coroutine.running.
func lUserRunning(s *Service, L *glua.LState) int {
	L.Push(s.identity(L))
	return 1
}
