package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// Nesting: pcall, xpcall and coroutine.resume each run their function in
// another coroutine, resumed from Go: a nested Go call into the VM, on the
// worker's goroutine stack. Nested deep enough (a recursion through
// pcall), that stack would outgrow Go's limit, which kills the process.
// So each of these resumes counts its level in the service (s.nest: the
// resumes under way on the goroutine running the service's VM; a task that
// suspends has returned from all of them) and refuses past MaxNesting.
//
// The Lua frames of all the nested coroutines count too: each coroutine
// may hold MaxCallDepth frames, and frames entered through a metamethod or
// a Go callback (__index, __tostring, table.sort's comparator) each nest a
// Go call, so a resume is refused when the frames of the coroutines it
// nests in (s.nestFrames) pass MaxCallDepth.

// ErrNesting is the message of the error past MaxNesting.
const nestingMsg = "pcall nesting too deep (more than %d levels of pcall, xpcall and coroutine.resume)"

func init() {
	// The coroutine primitives resume from Go: wrap them (coapi.go).
	for _, name := range []string{"xresume", "uresume"} {
		f := coAPI[name]
		coAPI[name] = func(s *Service, L *glua.LState) int { return s.nested(L, f) }
	}
	create := coAPI["ucreate"]
	coAPI["ucreate"] = func(s *Service, L *glua.LState) int {
		n := create(s, L)
		if th, ok := L.Get(-1).(*glua.LState); ok {
			patchStack(th)
		}
		return n
	}
}

// lCoResume is gopher-lua's coroutine.resume, counted: the prelude's pcall
// and pass-through resumes.
func lCoResume(s *Service, L *glua.LState) int {
	return s.nested(L, coResumeAPI)
}

func coResumeAPI(_ *Service, L *glua.LState) int { return coResume()(L) }

// nested runs f, one level deeper.
func (s *Service) nested(L *glua.LState, f func(*Service, *glua.LState) int) int {
	d := callDepth(L)
	if s.nest >= MaxNesting {
		L.RaiseError(nestingMsg, MaxNesting)
	}
	if s.nestFrames+d > MaxCallDepth {
		L.RaiseError("stack overflow (Lua calls nested deeper than %d, counting the coroutines of pcall, xpcall and coroutine.resume)", MaxCallDepth)
	}
	s.nest++
	s.nestFrames += d
	defer func() {
		s.nest--
		s.nestFrames -= d
	}()
	return f(s, L)
}
