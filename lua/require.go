package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// require(name) loads a Lua module once per VM: from the service script's
// directory, then along the search path. The file is compiled once per
// process (protoCache); each VM runs it and keeps the result in
// package.loaded, as Lua's require does.
func lRequire(s *Service, L *glua.LState) int {
	name := L.CheckString(1)
	loaded := s.loaded
	if v := loaded.RawGetString(name); v != glua.LNil {
		L.Push(v)
		return 1
	}
	if t := s.lazyLib(name); t != nil {
		L.Push(t)
		return 1
	}
	path, err := s.rt.findModule(name, s.dir)
	if err != nil {
		L.RaiseError("module %s", err.Error())
	}
	proto, err := s.rt.protos.load(path)
	if err != nil {
		L.RaiseError("module %q: %s", name, err.Error())
	}
	L.Push(L.NewFunctionFromProto(proto))
	L.Push(glua.LString(name))
	L.Call(1, 1)
	v := L.Get(-1)
	L.Pop(1)
	if v == glua.LNil {
		v = glua.LTrue
	}
	loaded.RawSetString(name, v)
	L.Push(v)
	return 1
}
