package lua

import (
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// lSetfenv is setfenv, refusing the Lua functions every VM shares (the
// prelude's: pcall, coroutine.wrap, tern.call, ...): a function's
// environment is a field of the function, so one service would change
// it for all, from another goroutine. Otherwise it is gopher-lua's:
// setfenv(f, t), setfenv(level, t), setfenv(0, t) for the thread.
func lSetfenv(L *glua.LState) int {
	var target glua.LValue = glua.LNumber(1)
	if L.GetTop() > 0 {
		target = L.Get(1)
	}
	env := L.CheckTable(2)
	var fn *glua.LFunction
	switch v := target.(type) {
	case *glua.LFunction:
		fn = v
	case glua.LNumber:
		level := int(v)
		if level <= 0 {
			L.Env = env
			return 0
		}
		f := currentFrame(L) // setfenv's own: level 0
		for i := 0; i < level && f != nil; i++ {
			f = frameParent(f)
		}
		if f != nil {
			fn = frameFn(f)
		}
	}
	if fn == nil || fn.IsG {
		L.RaiseError("cannot change the environment of given object")
	}
	if _, ok := shared()[unsafe.Pointer(fn)]; ok {
		L.RaiseError("setfenv: cannot change the environment of a runtime function (every service shares it)")
	}
	fn.Env = env
	L.Push(fn)
	return 1
}
