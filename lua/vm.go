package lua

import (
	_ "embed"
	"fmt"
	"sync"

	glua "github.com/yuin/gopher-lua"
)

//go:embed prelude.lua
var preludeSrc []byte

var prelude = sync.OnceValues(func() (*glua.FunctionProto, error) {
	return compileChunk(preludeSrc, "=prelude")
})

// vmOptions keep an idle VM small: gopher-lua's defaults reserve about
// 166 KB per state (and per coroutine, which is a state too). The
// registry (the value stack) starts small and grows, instead of failing
// with "registry overflow" on a big table.concat; the call stack grows in
// segments. Never set a memory limit with SetMx: it calls os.Exit.
var vmOptions = glua.Options{
	SkipOpenLibs:        true,
	RegistrySize:        256,
	RegistryMaxSize:     1 << 20,
	RegistryGrowStep:    256,
	CallStackSize:       256,
	MinimizeStackMemory: true,
}

// libs are the standard libraries a service gets. io, os (but for the
// clock functions) and package are left out: a service talks to the world
// through services.
var libs = []struct {
	name string
	open glua.LGFunction
}{
	{glua.BaseLibName, glua.OpenBase},
	{glua.TabLibName, glua.OpenTable},
	{glua.StringLibName, glua.OpenString},
	{glua.MathLibName, glua.OpenMath},
	{glua.DebugLibName, glua.OpenDebug},
	{glua.CoroutineLibName, glua.OpenCoroutine},
	{glua.OsLibName, glua.OpenOs},
}

// newVM creates the service's VM: libraries, prelude, tern module, and
// the script's compiled main chunk.
func (s *Service) newVM() error {
	pre, err := prelude()
	if err != nil {
		return fmt.Errorf("prelude: %w", err)
	}
	chunk, err := s.rt.protos.load(s.script)
	if err != nil {
		return fmt.Errorf("load %s: %w", s.script, err)
	}
	L := glua.NewState(vmOptions)
	s.L = L
	s.threads = make(map[*glua.LState]*coro)
	s.waiting = make(map[uint32]waiter)
	for _, lib := range libs {
		L.Push(L.NewFunction(lib.open))
		L.Push(glua.LString(lib.name))
		L.Call(1, 0)
	}
	rawco := L.GetGlobal("coroutine").(*glua.LTable)
	s.tracebackFn = L.GetField(L.GetGlobal("debug"), "traceback").(*glua.LFunction)
	trimOs(L)

	raw := L.NewTable()
	for name, f := range api {
		raw.RawSetString(name, L.NewFunction(func(L *glua.LState) int { return f(s, L) }))
	}
	for _, name := range []string{"create", "resume", "status", "running", "yield"} {
		raw.RawSetString("co_"+name, rawco.RawGetString(name))
	}
	done, user := L.NewTable(), L.NewTable()
	s.done, s.user = done, user
	L.Push(L.NewFunctionFromProto(pre))
	L.Push(raw)
	L.Push(done)
	L.Push(user)
	if err := L.PCall(3, 2, nil); err != nil {
		L.Close()
		return fmt.Errorf("prelude: %w", err)
	}
	tern, boot := L.Get(-2), L.Get(-1)
	L.Pop(2)
	s.boot = boot.(*glua.LFunction)
	s.body = L.GetField(raw, "loop").(*glua.LFunction)
	L.SetGlobal("require", L.NewFunction(s.require))
	loaded := L.NewTable()
	L.SetField(L.Get(glua.RegistryIndex), "_LOADED", loaded)
	loaded.RawSetString("tern", tern)
	for _, lib := range libs {
		loaded.RawSetString(lib.name, L.GetGlobal(lib.name))
	}
	loaded.RawSetString("_G", L.Get(glua.GlobalsIndex))
	s.chunk = L.NewFunctionFromProto(chunk)
	s.handlers = L.NewTable()
	return nil
}

// trimOs keeps only os.time, os.clock, os.date and os.getenv.
func trimOs(L *glua.LState) {
	os := L.GetGlobal("os").(*glua.LTable)
	keep := L.NewTable()
	for _, name := range []string{"time", "clock", "date", "getenv", "difftime"} {
		keep.RawSetString(name, os.RawGetString(name))
	}
	L.SetGlobal("os", keep)
}
