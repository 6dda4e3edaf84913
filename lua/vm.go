package lua

import (
	_ "embed"
	"maps"
	"sync"

	glua "github.com/yuin/gopher-lua"
)

//go:embed prelude.lua
var preludeSrc []byte

// preludeName is the prelude's chunk name. Error positions never point
// into it: they are moved to the script line that called (coro.go).
const preludeName = "=prelude"

// The prelude's marks: a pooled coroutine's "finished" yield, and a
// script's own yield. Userdata without a metatable: nothing in Lua can
// change one, so every VM can share them.
var (
	doneMark = &glua.LUserData{Value: "done", Metatable: glua.LNil}
	userMark = &glua.LUserData{Value: "user", Metatable: glua.LNil}
)

// preludeOut is what the prelude made, once per process, on the template.
type preludeOut struct {
	// libs are the VMs' libraries: sharedLibs' own, with the prelude's
	// pcall, xpcall, dofile and print in the base library and its
	// coroutine library instead of gopher-lua's.
	libs              map[string]libTable
	boot, loop, ubody *glua.LFunction
	// __index of a VM's globals and strings' metatables: the lazy
	// libraries.
	gIndex, strIndex *glua.LFunction
	// tern is what a VM's own tern table holds (hotAPI); the rest of
	// the module is behind its metatable, shared.
	tern libTable
}

// build makes the lib's table on the template.
func (lib libTable) build(L *glua.LState) libTable {
	lib.table = L.CreateTable(0, len(lib.fields))
	for k, v := range lib.fields {
		if v == nil {
			lib.self = append(lib.self, k)
			v = glua.LFalse // set per VM
		}
		lib.table.RawSetString(k, v)
	}
	return lib
}

// preludeFns runs the prelude once. Set in init: as a variable's
// initializer it would close a cycle (the API's require makes libraries,
// and the prelude is made of the API).
var preludeFns func() *preludeOut

func init() { preludeFns = sync.OnceValue(makePrelude) }

func makePrelude() *preludeOut {
	raw := sharedRaw()
	proto, err := compileChunk(preludeSrc, preludeName)
	if err != nil {
		panic("lua: prelude: " + err.Error())
	}
	L := template()
	L.Push(L.NewFunctionFromProto(proto))
	L.Push(raw)
	L.Push(doneMark)
	L.Push(userMark)
	L.Call(3, 1)
	out := L.Get(-1).(*glua.LTable)
	L.Pop(1)
	field := func(t *glua.LTable, name string) glua.LValue { return t.RawGetString(name) }
	fields := func(name string) map[string]glua.LValue {
		m := map[string]glua.LValue{}
		field(out, name).(*glua.LTable).ForEach(func(k, v glua.LValue) { m[k.String()] = v })
		return m
	}
	p := &preludeOut{
		boot:  field(out, "boot").(*glua.LFunction),
		loop:  field(out, "loop").(*glua.LFunction),
		ubody: field(out, "ubody").(*glua.LFunction),
	}
	libs, _ := sharedLibs()
	p.libs = maps.Clone(libs)
	base := maps.Clone(libs[glua.BaseLibName].fields)
	maps.Copy(base, fields("globals"))
	// Wrappers that need the VM they run in (serviceOf), shared too.
	getfenv, setmetatable := base["getfenv"], base["setmetatable"]
	base["getfenv"] = L.NewFunction(func(L *glua.LState) int { return lGetfenv(L, getfenv) })
	base["setmetatable"] = L.NewFunction(func(L *glua.LState) int { return lSetmetatable(L, setmetatable) })
	base["require"] = sharedAPI()["require"]
	p.gIndex = L.NewFunction(lGlobalIndex)
	p.strIndex = L.NewFunction(lStringIndex)
	p.libs[glua.BaseLibName] = libTable{fields: base}
	p.libs[glua.CoroutineLibName] = libTable{fields: fields("coroutine"), lazy: true}
	// The tern module's Lua wrappers join its Go functions behind the
	// module's metatable.
	mod := field(field(raw, "ternmeta").(*glua.LTable), "__index").(*glua.LTable)
	for name, f := range fields("tern") {
		mod.RawSetString(name, f)
	}
	for name, lib := range p.libs {
		p.libs[name] = lib.build(L)
	}
	p.tern = libTable{fields: map[string]glua.LValue{}}
	for _, name := range hotAPI {
		p.tern.fields[name] = mod.RawGetString(name)
	}
	p.tern = p.tern.build(L)
	return p
}

// vmOptions keep an idle VM small: gopher-lua's defaults reserve about
// 166 KB per state (and per coroutine, which is a state too). The
// registry (the value stack) starts small and grows, instead of failing
// with "registry overflow" on a big table.concat; the call stack grows in
// segments, which patchStack lets grow past CallStackSize up to
// MaxCallDepth (guards.go). Never set a memory limit with SetMx: it calls os.Exit.
var vmOptions = glua.Options{
	SkipOpenLibs:        true,
	RegistrySize:        128,     // gopher-lua's minimum: below it, the 5120 default
	RegistryMaxSize:     1 << 22, // 64 MiB: deep recursion, MaxUnpack values
	RegistryGrowStep:    128,
	CallStackSize:       64, // grown on demand (guards.go)
	MinimizeStackMemory: true,
}

// Standard libraries. They are pure Go functions, so each is created once
// per process and shared: every VM gets its own tables (scripts may change
// them freely) holding the same function objects, which nothing can change
// (gopher-lua refuses setfenv on a Go function, and getfenv is wrapped
// below). load, loadstring and loadfile are tern's own (require.go): they
// compile with the generic-for rewrite, and loadfile reads only along the
// script path; dofile is the prelude's, on loadfile. io, os (but for its clock
// functions) and package are left out: services talk to the world through
// services.
//
// To keep an idle VM small, table, math, debug and os are lazy: their
// table is made on first use (a global read, require, or a metatable set
// on _G), so rawget(_G, "math") is nil until then.
type libTable struct {
	fields map[string]glua.LValue
	lazy   bool
	// table holds the fields, made once on the template; a VM's table is
	// a copy of it (fillLib), with self (the fields naming the table
	// itself: _G, string.__index) pointed at the copy.
	table *glua.LTable
	self  []string
}

// template is the state that owns the shared functions. It never runs.
var template = sync.OnceValue(func() *glua.LState {
	return glua.NewState(glua.Options{SkipOpenLibs: true})
})

var sharedLibs = sync.OnceValues(func() (map[string]libTable, *glua.LTable) {
	L := template()
	opens := []struct {
		name string
		open glua.LGFunction
		keep []string // nil: all
		lazy bool
	}{
		{glua.BaseLibName, glua.OpenBase, nil, false},
		{glua.StringLibName, glua.OpenString, nil, true},
		{glua.CoroutineLibName, glua.OpenCoroutine, nil, false},
		{glua.TabLibName, glua.OpenTable, nil, true},
		{glua.MathLibName, glua.OpenMath, nil, true},
		// Not the parts that reach or change what VMs share (the shared
		// functions' upvalues, the shared tables behind metatables).
		{glua.DebugLibName, glua.OpenDebug, []string{"traceback", "getinfo", "getlocal", "setlocal", "getupvalue"}, true},
		{glua.OsLibName, glua.OpenOs, []string{"time", "clock", "date", "getenv", "difftime"}, true},
	}
	libs := make(map[string]libTable, len(opens))
	for _, o := range opens {
		L.Push(L.NewFunction(o.open))
		L.Push(glua.LString(o.name))
		L.Call(1, 1)
		mod := L.Get(-1).(*glua.LTable)
		L.Pop(1)
		lib := libTable{fields: map[string]glua.LValue{}, lazy: o.lazy}
		mod.ForEach(func(k, v glua.LValue) {
			if v == mod {
				v = nil // string.__index = string, _G = _G: the VM's own table
			}
			lib.fields[k.String()] = v
		})
		if o.keep != nil {
			kept := map[string]glua.LValue{}
			for _, k := range o.keep {
				kept[k] = lib.fields[k]
			}
			lib.fields = kept
		}
		libs[o.name] = lib
	}
	// Linear in the stack's depth (traceback.go, guards.go).
	libs[glua.DebugLibName].fields["traceback"] = L.NewFunction(lTraceback)
	libs[glua.BaseLibName].fields["unpack"] = L.NewFunction(lUnpack)
	libs[glua.StringLibName].fields["rep"] = L.NewFunction(lStringRep)
	if _, ok := libs[glua.TabLibName].fields["unpack"]; ok {
		libs[glua.TabLibName].fields["unpack"] = libs[glua.BaseLibName].fields["unpack"]
	}
	// Replaced by the prelude (preludeFns) and require.go, or of no use in
	// a service.
	base := libs[glua.BaseLibName].fields
	for _, name := range []string{"print", "pcall", "xpcall", "require", "module", "dofile", "_printregs", "_GOPHER_LUA_VERSION"} {
		delete(base, name)
	}
	base["setfenv"] = L.NewFunction(lSetfenv)
	for name, f := range loaders {
		base[name] = L.NewFunction(func(L *glua.LState) int { return f(serviceOf(L), L) })
	}
	return libs, L.G.Global
})

// sharedFunc is a function of a shared library, for the runtime's own use.
func sharedFunc(lib, name string) *glua.LFunction {
	libs, _ := sharedLibs()
	return libs[lib].fields[name].(*glua.LFunction)
}

// newLib makes the VM's own table of a shared library.
func newLib(L *glua.LState, name string) *glua.LTable {
	t := L.CreateTable(0, 0)
	fillLib(t, name)
	return t
}

// fillLib gives t, empty, the fields of a shared library.
func fillLib(t *glua.LTable, name string) {
	lib := preludeFns().libs[name]
	cloneTable(t, lib.table)
	for _, k := range lib.self {
		t.RawSetString(k, t)
	}
}

// openLibs gives L the base library, and the lazy others behind the
// metatables of its globals and of strings.
func (s *Service) openLibs(L *glua.LState) {
	p := preludeFns()
	g := L.G.Global
	fillLib(g, glua.BaseLibName)
	// Strings' metatable loads the string library on the first method
	// call ("x"):upper(), then points at it directly.
	s.strmt = L.CreateTable(0, 1)
	s.strmt.RawSetString("__index", p.strIndex)
	L.SetMetatable(glua.LString(""), s.strmt)
	s.gmt = L.CreateTable(0, 1)
	s.gmt.RawSetString("__index", p.gIndex)
	g.Metatable = s.gmt
}

func lStringIndex(L *glua.LState) int {
	str := serviceOf(L).lazyLib(glua.StringLibName)
	L.Push(str.RawGet(L.Get(2)))
	return 1
}

func lGlobalIndex(L *glua.LState) int {
	if name, ok := L.Get(2).(glua.LString); ok {
		if t := serviceOf(L).lazyLib(string(name)); t != nil {
			L.Push(t)
			return 1
		}
	}
	return 0
}

// lGetfenv is getfenv, which for a shared function would hand out the
// template's globals, one table for every VM: it gives the VM's own
// instead.
func lGetfenv(L *glua.LState, getfenv glua.LValue) int {
	L.Insert(getfenv, 1)
	L.Call(L.GetTop()-1, 1)
	if L.Get(-1) == template().G.Global {
		L.Pop(1)
		L.Push(L.G.Global)
	}
	return 1
}

// lSetmetatable is setmetatable, but a script that sets its own
// metatable on _G gets every library first.
func lSetmetatable(L *glua.LState, setmetatable glua.LValue) int {
	s := serviceOf(L)
	if g := L.G.Global; L.Get(1) == g && g.Metatable == s.gmt {
		s.allLibs()
		g.Metatable = glua.LNil
	}
	L.Insert(setmetatable, 1)
	L.Call(L.GetTop()-1, 1)
	return 1
}

// lazyLib makes a lazy library's table on first use: a global and a
// package.loaded entry. It returns nil for any other name.
func (s *Service) lazyLib(name string) *glua.LTable {
	if lib, ok := preludeFns().libs[name]; !ok || !lib.lazy {
		return nil
	}
	L := s.L
	if t, ok := L.G.Global.RawGetString(name).(*glua.LTable); ok {
		return t
	}
	t := newLib(L, name)
	L.G.Global.RawSetString(name, t)
	s.loaded.RawSetString(name, t)
	if name == glua.StringLibName {
		s.strmt.RawSetString("__index", t)
	}
	return t
}

func (s *Service) allLibs() {
	for name := range preludeFns().libs {
		s.lazyLib(name)
	}
}

// serviceSlot is where a VM's registry keeps its *Service: an array slot
// (gopher-lua uses only string keys there), so finding it is an index.
const serviceSlot = 1

// serviceOf finds the Service that owns L. The API functions are shared by
// every VM (per-VM closures cost an idle service kilobytes), so they look
// their service up here.
func serviceOf(L *glua.LState) *Service {
	return L.G.Registry.RawGetInt(serviceSlot).(*glua.LUserData).Value.(*Service)
}

// sharedRaw is the table of primitives the prelude reads (and never
// writes): every Go function of the API and gopher-lua's own coroutine
// functions. One per process, read by every VM.
var sharedRaw = sync.OnceValue(func() *glua.LTable {
	fns := sharedAPI()
	raw := template().CreateTable(0, len(fns)+8)
	for name, f := range fns {
		raw.RawSetString(name, f)
	}
	for _, name := range []string{"create", "resume", "status", "running", "yield"} {
		raw.RawSetString("co_"+name, sharedFunc(glua.CoroutineLibName, name))
	}
	libs, _ := sharedLibs()
	raw.RawSetString("loadfile", libs[glua.BaseLibName].fields["loadfile"])
	// Resumes are counted (nest.go).
	raw.RawSetString("co_resume", template().NewFunction(func(L *glua.LState) int { return lCoResume(serviceOf(L), L) }))
	// The tern module's functions live in one shared table behind a
	// protected metatable (its Lua ones added by preludeFns): each VM's
	// tern table starts empty, which keeps an idle VM small.
	mod := template().CreateTable(0, len(ternAPI))
	for name := range ternAPI {
		mod.RawSetString(name, fns[name])
	}
	meta := template().CreateTable(0, 2)
	meta.RawSetString("__index", mod)
	meta.RawSetString("__metatable", glua.LFalse)
	raw.RawSetString("ternmeta", meta)
	return raw
})

// sharedAPI makes the Go functions of the API once per process: the tern
// module's, the prelude's primitives and the coroutine ones. Their names
// do not collide.
var sharedAPI = sync.OnceValue(func() map[string]*glua.LFunction {
	sharedLibs() // first: the two must not use the template at once
	L := template()
	fns := make(map[string]*glua.LFunction, len(ternAPI)+len(prims)+len(coAPI))
	for _, m := range []map[string]apiFunc{ternAPI, prims, coAPI} {
		for name, f := range m {
			if fns[name] != nil {
				panic("lua: two API functions named " + name)
			}
			fns[name] = L.NewFunction(func(L *glua.LState) int { return f(serviceOf(L), L) })
		}
	}
	return fns
})

// hotAPI are the tern functions each VM's tern table holds itself: up to
// 8, a Go map's smallest size, cost no memory.
var hotAPI = []string{"call", "send", "timeout", "sleep", "now", "self", "wait", "wakeup"}

// newVM creates the service's VM: libraries, tern module, and the
// script's compiled main chunk. The prelude's functions are shared
// (preludeFns): nothing of it runs here.
func (s *Service) newVM(chunk *glua.FunctionProto) error {
	p := preludeFns()
	L := glua.NewState(vmOptions)
	patchStack(L) // grows past CallStackSize on demand (guards.go)
	s.L = L
	// gopher-lua presizes the globals and registry tables, and L.NewTable
	// gives 32 array and 32 hash slots: about 2 KB a table. Right-sized
	// tables are most of what keeps an idle service small.
	L.G.Global = L.CreateTable(0, 0) // openLibs fills it
	L.G.Registry = L.CreateTable(1, 1)
	L.Env = L.G.Global
	s.threads = make(map[*glua.LState]*coro)
	s.loaded = L.CreateTable(0, 4)
	L.SetField(L.Get(glua.RegistryIndex), "_LOADED", s.loaded)
	s.openLibs(L)
	s.tracebackFn = sharedFunc(glua.DebugLibName, "traceback")

	ud := L.NewUserData()
	ud.Value = s
	L.G.Registry.RawSetInt(serviceSlot, ud)
	s.boot, s.body = p.boot, p.loop
	// The VM's own tern table holds the functions of the message path
	// and of timers (two map lookups less each); everything else is
	// behind its metatable, shared.
	tern := L.CreateTable(0, 0)
	cloneTable(tern, p.tern.table)
	tern.Metatable = sharedRaw().RawGetString("ternmeta")
	s.loaded.RawSetString("tern", tern)
	s.loaded.RawSetString("_G", L.Get(glua.GlobalsIndex))
	s.chunk = L.NewFunctionFromProto(chunk)
	s.handlers = L.CreateTable(0, 0)
	return nil
}
