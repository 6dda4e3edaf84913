package lua

import (
	_ "unsafe" // go:linkname

	glua "github.com/yuin/gopher-lua"
)

// gopher-lua's LState.Resume copies what the thread yields or returns into
// a new slice every time: two allocations on every Lua call (the callee's
// resume with the request, the caller's with the answer), one on every
// message and timer. resumeThread is the same for a started thread, with
// the values put in a buffer of the service's, valid until the next resume.
// It runs the thread through gopher-lua's own threadRun (linked below),
// so the running, the yields and the errors are gopher-lua's.

//go:linkname threadRun github.com/yuin/gopher-lua.threadRun
func threadRun(L *glua.LState)

func (s *Service) resumeThread(th *glua.LState, args []glua.LValue) (glua.ResumeState, error, []glua.LValue) {
	ls := s.L
	if currentFrame(th) == nil || ls.G.CurrentThread == th || th.Dead {
		return ls.Resume(th, nil, args...) // not started, or an error: gopher-lua's
	}
	th.Parent = ls
	ls.G.CurrentThread = th
	for _, a := range args {
		th.Push(a)
	}
	top := ls.GetTop()
	threadRun(th)
	failed := glua.LVIsFalse(ls.Get(top + 1))
	out := s.rets[:0]
	for i := top + 2; i <= ls.GetTop(); i++ {
		out = append(out, ls.Get(i))
	}
	if len(out) == 0 {
		out = append(out, glua.LNil)
	}
	ls.SetTop(top)
	s.rets = out
	switch cs := callStackOf(th); {
	case failed:
		return glua.ResumeError, &glua.ApiError{Type: glua.ApiErrorRun, Object: out[0]}, nil
	case cs.segIdx == 0 && cs.segSp == 0:
		return glua.ResumeOK, nil, out
	}
	return glua.ResumeYield, nil, out
}
