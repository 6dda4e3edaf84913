package lua

import glua "github.com/yuin/gopher-lua"

// The primitives behind the prelude's pcall, xpcall and coroutine library.

// newco() -> a pooled coroutine for pcall/xpcall.
func lNewCo(s *Service, L *glua.LState) int {
	L.Push(s.newCoro(L).th)
	return 1
}

// sethandler(co, h) sets (or with nil clears) xpcall's handler.
func lSetHandler(s *Service, L *glua.LState) int {
	c := s.threads[L.CheckThread(1)]
	if c == nil {
		L.RaiseError("sethandler: not a pooled coroutine")
	}
	c.handler = nil
	if h := L.Get(2); h != glua.LNil {
		c.handler = h
	}
	return 0
}

// pass(...) yields the values on: a suspension passing up through pcall
// or a script coroutine towards the scheduler. A script's own yield (USER)
// only needs to reach the script's resume.
func lPass(s *Service, L *glua.LState) int {
	if L.Get(1) == s.user {
		return lUserYield(s, L)
	}
	s.mustYield(L, "yield")
	return -1
}

// uyield(USER, ...) is coroutine.yield.
func lUserYield(s *Service, L *glua.LState) int {
	if L.Parent == nil || !plainCalls(L) {
		L.RaiseError("coroutine.yield: cannot yield here (outside a coroutine, or across a metamethod or a Go callback)")
	}
	return -1
}

// forget(co) drops a pooled coroutine the prelude's pool has no room for.
func lForget(s *Service, L *glua.LState) int {
	delete(s.threads, L.CheckThread(1))
	return 0
}
