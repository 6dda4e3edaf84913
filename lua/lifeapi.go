package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// A service's life: init, handlers, identity, exit, shutdown and logging.

// start(fn) sets the init function, run with the creator's arguments.
func lStart(s *Service, L *glua.LState) int {
	s.start = L.CheckFunction(1)
	return 0
}

func lGetStart(s *Service, L *glua.LState) int {
	if s.start == nil {
		return 0
	}
	L.Push(s.start)
	return 1
}

// sethandlers(S): the table the script returned, or nil for none.
func lSetHandlers(s *Service, L *glua.LState) int {
	switch v := L.Get(1).(type) {
	case *glua.LTable:
		s.handlers = v
	case *glua.LNilType:
	default:
		L.RaiseError("%s: the script must return a table of handlers (or nothing), not a %s", s.script, v.Type())
	}
	return 0
}

func lSelf(s *Service, L *glua.LState) int {
	L.Push(glua.LNumber(s.c.Self()))
	return 1
}

// exit() stops the service; it does not return when it can suspend.
func lExit(s *Service, L *glua.LState) int {
	s.c.Exit()
	if s.cur != nil && canYield(L, s.cur.th) {
		return suspend(L) // never resumed
	}
	return 0
}

// shutdown([code]) asks the process to stop every service and exit with
// code (default 0): an integer from 0 to 255, what a process can exit
// with; anything else raises instead of wrapping around (256 exiting 0).
func lShutdown(s *Service, L *glua.LState) int {
	code := 0
	if L.Get(1) != glua.LNil {
		f := float64(L.CheckNumber(1))
		if !(f >= 0 && f <= 255 && f == math.Trunc(f)) {
			L.RaiseError("tern.shutdown: bad argument #1 (code): %s is not an exit code (an integer from 0 to 255)", numString(f))
		}
		code = int(f)
	}
	if s.rt.shutdown == nil {
		L.RaiseError("tern.shutdown: this runtime has no process to stop")
	}
	s.rt.shutdown(code)
	return 0
}

func lAddress(s *Service, L *glua.LState) int {
	L.Push(glua.LString(target(L, 1).String()))
	return 1
}

func joinArgs(L *glua.LState) string {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte(' ')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	return b.String()
}

// log(...) and print(...): the arguments, space-separated, at info level.
func lLog(s *Service, L *glua.LState) int {
	s.c.Logger().Info(joinArgs(L))
	return 0
}

// logerror(...) is tern.error: the same at error level.
func lLogError(s *Service, L *glua.LState) int {
	s.c.Logger().Error(joinArgs(L))
	return 0
}

// on_shutdown(fn) sets the function run when the process shuts down;
// requests in flight finish first, new ones are refused.
func lOnShutdown(s *Service, L *glua.LState) int {
	s.onShutdown = L.CheckFunction(1)
	return 0
}

// on_save(fn) sets the function a reload runs in this VM first: what it
// returns (copyable values) is the state the new VM's on_restore gets.
// It may not block.
func lOnSave(s *Service, L *glua.LState) int {
	s.onSave = L.CheckFunction(1)
	return 0
}

// on_restore(fn) sets the function a reload runs in the new VM after its
// tern.start, with what the old VM's on_save returned.
func lOnRestore(s *Service, L *glua.LState) int {
	s.onRestore = L.CheckFunction(1)
	return 0
}
