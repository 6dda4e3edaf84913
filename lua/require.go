package lua

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Loading code: require, and the base library's load, loadstring and
// loadfile (dofile is the prelude's, on loadfile). All compile through
// compileAST, with the generic-for rewrite.

// require(name) loads a Lua module once per VM: from the service script's
// directory, then along the search path. The file is compiled once per
// process (protoCache); each VM runs it and keeps the result in
// package.loaded, as Lua's require does. A module that requires, directly
// or not, one still loading raises "require cycle: a -> b -> a" (a
// module's top level cannot block, so the modules loading are one chain).
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
	vm := s.vmState()
	for i, n := range vm.loading {
		if n == name {
			L.RaiseError("require cycle: %s -> %s", strings.Join(vm.loading[i:], " -> "), name)
		}
	}
	path, err := s.rt.findModule(name, s.dir)
	if err != nil {
		L.RaiseError("module %s", err.Error())
	}
	proto, err := s.compiled(path)
	if err != nil {
		L.RaiseError("module %q: %s", name, err.Error())
	}
	n0 := len(vm.loading)
	vm.loading = append(vm.loading, name)
	defer func() { vm.loading = vm.loading[:n0] }() // on an error too
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

// loaders replace gopher-lua's functions of these names in the base
// library (vm.go).
var loaders = map[string]func(*Service, *glua.LState) int{
	"load":       lLoad,
	"loadstring": lLoadString,
	"loadfile":   lLoadFile,
}

// loadstring(s [, chunkname]) -> the compiled chunk, or nil and the error.
func lLoadString(s *Service, L *glua.LState) int {
	return loadSource(L, L.CheckString(1), L.OptString(2, "<string>"))
}

// load(f [, chunkname]): loadstring of the concatenated pieces f returns,
// until nil or "".
func lLoad(s *Service, L *glua.LState) int {
	f := L.CheckFunction(1)
	name := L.OptString(2, "?")
	var b strings.Builder
	for {
		L.Push(f)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		if v == glua.LNil {
			break
		}
		if !glua.LVCanConvToString(v) {
			L.Push(glua.LNil)
			L.Push(glua.LString("reader function must return a string"))
			return 2
		}
		piece := v.String()
		if piece == "" {
			break
		}
		b.WriteString(piece)
	}
	return loadSource(L, b.String(), name)
}

func loadSource(L *glua.LState, src, name string) int {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err == nil {
		var proto *glua.FunctionProto
		if proto, err = compileAST(chunk, name); err == nil {
			L.Push(L.NewFunctionFromProto(proto))
			return 1
		}
	}
	L.Push(glua.LNil)
	L.Push(glua.LString(err.Error()))
	return 2
}

// loadfile(name) -> the compiled chunk of a file on the script path, or
// nil and the error. A relative name is looked up beside the service's
// script, then in the directories of the search path; an absolute one
// must lie in one of them. Symbolic links are followed before the check,
// so none leads out. The file is compiled once per process, as require's.
func lLoadFile(s *Service, L *glua.LState) int {
	name := L.CheckString(1)
	path, err := s.findFile(name)
	if err == nil {
		var proto *glua.FunctionProto
		if proto, err = s.compiled(path); err == nil {
			L.Push(L.NewFunctionFromProto(proto))
			return 1
		}
	}
	L.Push(glua.LNil)
	L.Push(glua.LString(fmt.Sprintf("cannot open %s: %v", name, err)))
	return 2
}

// scriptRoots are the directories loadfile and dofile may read from, as
// absolute paths: the service script's directory and those of the search
// path's patterns.
func (s *Service) scriptRoots() []string {
	roots := []string{s.dir}
	for _, p := range s.rt.path {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i] + "_" // "lib/?.lua" -> "lib/_", "lib/m?.lua" -> "lib/m_"
		}
		dir, err := filepath.Abs(filepath.Dir(p))
		if err == nil && !slices.Contains(roots, dir) {
			roots = append(roots, dir)
		}
	}
	return roots
}

// findFile resolves loadfile's name to the absolute path of a file inside
// the script roots.
func (s *Service) findFile(name string) (string, error) {
	roots := s.scriptRoots()
	var real []string // the roots with links resolved
	for _, r := range roots {
		if r, err := filepath.EvalSymlinks(r); err == nil {
			real = append(real, r)
		}
	}
	candidates := []string{name}
	if !filepath.IsAbs(name) {
		candidates = candidates[:0]
		for _, r := range roots {
			candidates = append(candidates, filepath.Join(r, name))
		}
	}
	var outside bool
	for _, c := range candidates {
		c, err := filepath.Abs(c)
		if err != nil {
			continue
		}
		target, err := filepath.EvalSymlinks(c)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(target); err != nil || fi.IsDir() {
			continue
		}
		if !inside(target, real) {
			outside = true
			continue
		}
		return c, nil
	}
	if outside {
		return "", fmt.Errorf("outside the script path (%s)", strings.Join(roots, ", "))
	}
	return "", fmt.Errorf("%w in the script path (%s)", ErrNotFound, strings.Join(roots, ", "))
}

// inside reports whether path lies in one of the directories.
func inside(path string, dirs []string) bool {
	for _, d := range dirs {
		rel, err := filepath.Rel(d, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
