package lua

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// A Lua service's memory is estimated, not measured: gopher-lua allocates
// through Go's allocator and has no hook to count a VM's bytes. The
// estimate walks every value the VM can reach (its globals, registry and
// loaded modules, its handler table, the stacks of its coroutines, and
// from there every table, function, upvalue and userdata) once each, and
// adds a fixed size per kind of object, the size gopher-lua's structures
// have on a 64-bit Go:
//
//	table      120 B, +16 B per array slot, +64 B per hash entry
//	string     16 B + its bytes (each distinct string once)
//	number     8 B (a boxed float64)
//	function   72 B, +56 B per upvalue; compiled code is shared between
//	           services (the chunk cache) and not counted
//	userdata   48 B, and what its Go value holds is not counted
//	coroutine  1 KB, +16 B per stack slot
//
// It does not see memory a Go function keeps outside the VM, nor Go's own
// overhead (allocation classes, map load factor, the GC's headroom), so
// the process's heap is larger than the sum of the estimates. The walk
// costs about 20 ns per value and stops after maxWalk values, flagging
// the figure as a lower bound.
const (
	memTable     = 120
	memArraySlot = 16
	memHashEntry = 64
	memString    = 16
	memNumber    = 8
	memFunction  = 72
	memUpvalue   = 56
	memUserData  = 48
	memThread    = 1024
	memSlot      = 16
	memChannel   = 96
)

// maxWalk bounds one estimate's walk, in values.
const maxWalk = 4 << 20

// threadStack is thread L's value stack: its live slots, and its
// capacity (registryOf reads gopher-lua's private registry: guards.go).
func threadStack(L *glua.LState) (live []glua.LValue, capacity int) {
	reg := registryOf(L)
	if reg == nil {
		return nil, 0
	}
	top := min(max(reg.top, 0), len(reg.array))
	return reg.array[:top], cap(reg.array)
}

// shared are the values every VM shares (the standard libraries'
// functions, tern's shared Lua code, the tables behind the tern module's
// metatable): not one service's memory, and never to be changed by one
// (compact.go). They are everything the template state reaches.
//
// Set in init: as a variable's initializer it would close a cycle
// (ternAPI holds tern.memory, which walks, which needs sharedRaw, which
// is made of ternAPI).
var shared func() map[unsafe.Pointer]struct{}

func init() { shared = sync.OnceValue(sharedValues) }

func sharedValues() map[unsafe.Pointer]struct{} {
	_, global := sharedLibs()
	p := preludeFns()
	out := map[unsafe.Pointer]struct{}{}
	todo := []glua.LValue{global, template().G.Registry, sharedRaw(), p.boot, p.loop, p.ubody}
	for _, lib := range p.libs {
		for _, v := range lib.fields {
			todo = append(todo, v)
		}
	}
	for len(todo) > 0 {
		v := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		switch v := v.(type) {
		case *glua.LTable:
			if _, ok := out[unsafe.Pointer(v)]; v == nil || ok {
				continue
			}
			out[unsafe.Pointer(v)] = struct{}{}
			todo = append(todo, v.Metatable)
			v.ForEach(func(k, val glua.LValue) { todo = append(todo, k, val) })
		case *glua.LFunction:
			if _, ok := out[unsafe.Pointer(v)]; v == nil || ok {
				continue
			}
			out[unsafe.Pointer(v)] = struct{}{}
			todo = append(todo, v.Env)
			for _, uv := range v.Upvalues {
				if uv != nil {
					todo = append(todo, uv.Value())
				}
			}
		}
	}
	return out
}

// memWalk is one estimate under way.
type memWalk struct {
	shared  map[unsafe.Pointer]struct{} // read only: every VM's walks read it
	seen    map[unsafe.Pointer]struct{}
	todo    []glua.LValue
	bytes   int64
	visited int
	table   func(*glua.LTable) // compact.go
}

// Memory is a service's estimate: bytes, and whether the walk saw every
// reachable value (false: a lower bound).
type Memory struct {
	Bytes    int64
	Complete bool
}

func (m Memory) String() string {
	if m.Complete {
		return fmt.Sprintf("%d B", m.Bytes)
	}
	return fmt.Sprintf("at least %d B", m.Bytes)
}

// memory estimates what the service's VM holds. It runs on the service's
// goroutine, between or inside its handlers, never while another
// goroutine runs the VM.
func (s *Service) memory() Memory {
	w := s.walk(nil, maxWalk)
	m := Memory{Bytes: w.bytes, Complete: len(w.todo) == 0}
	w.release()
	return m
}

// walk visits every value the VM can reach, once each, shared values
// excepted, calling table (when not nil) on each of its tables. It stops
// after limit tables, functions, userdata and coroutines.
func (s *Service) walk(table func(*glua.LTable), limit int) *memWalk {
	w := walks.Get().(*memWalk)
	w.shared, w.table = shared(), table
	w.push(s.L)
	if s.L != nil {
		w.push(s.L.G.Global)
		w.push(s.L.G.Registry)
	}
	w.push(s.handlers)
	w.push(s.loaded)
	for th := range s.threads {
		w.push(th)
	}
	if s.vm != nil {
		for _, th := range s.vm.pcalls {
			w.push(th)
		}
	}
	for len(w.todo) > 0 && w.visited < limit {
		v := w.todo[len(w.todo)-1]
		w.todo = w.todo[:len(w.todo)-1]
		w.visit(v)
	}
	return w
}

// walks keeps walks' maps and stacks: a walk ends every service's start
// (compact.go).
var walks = sync.Pool{New: func() any {
	return &memWalk{seen: make(map[unsafe.Pointer]struct{}, 64)}
}}

// maxPooledWalk is the most values a pooled walk's map keeps room for.
const maxPooledWalk = 4096

func (w *memWalk) release() {
	if len(w.seen) > maxPooledWalk {
		return
	}
	clear(w.seen)
	clear(w.todo[:cap(w.todo)])
	*w = memWalk{seen: w.seen, todo: w.todo[:0]}
	walks.Put(w)
}

// push queues v, or counts it at once when it holds nothing else.
func (w *memWalk) push(v glua.LValue) {
	switch v := v.(type) {
	case nil, glua.LBool, *glua.LNilType:
	case glua.LNumber:
		w.bytes += memNumber
	case glua.LString:
		if w.table == nil && len(v) > 0 && w.first(unsafe.Pointer(unsafe.StringData(string(v)))) {
			w.bytes += memString + int64(len(v))
		}
	case *glua.LTable:
		if v != nil {
			w.todo = append(w.todo, v)
		}
	case *glua.LFunction:
		if v != nil {
			w.todo = append(w.todo, v)
		}
	case *glua.LUserData:
		if v != nil {
			w.todo = append(w.todo, v)
		}
	case *glua.LState:
		if v != nil {
			w.todo = append(w.todo, v)
		}
	case glua.LChannel:
		w.bytes += memChannel
	}
}

// first reports whether p is seen for the first time.
func (w *memWalk) first(p unsafe.Pointer) bool {
	if _, ok := w.shared[p]; ok {
		return false
	}
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}

func (w *memWalk) visit(v glua.LValue) {
	switch v := v.(type) {
	case *glua.LTable:
		if !w.first(unsafe.Pointer(v)) {
			return
		}
		w.visited++
		if w.table != nil && tableSize(v) > maxCompactKeys {
			w.table(v) // big data: not walked through (compact.go)
			return
		}
		entries := 0
		v.ForEach(func(k, val glua.LValue) {
			entries++
			w.push(k)
			w.push(val)
		})
		array := min(v.Len(), entries)
		w.bytes += memTable + int64(array)*memArraySlot + int64(entries-array)*memHashEntry
		w.push(v.Metatable)
		if w.table != nil {
			w.table(v)
		}
	case *glua.LFunction:
		if !w.first(unsafe.Pointer(v)) {
			return
		}
		w.visited++
		w.bytes += memFunction + int64(len(v.Upvalues))*memUpvalue
		w.push(v.Env)
		for _, uv := range v.Upvalues {
			if uv != nil {
				w.push(uv.Value())
			}
		}
	case *glua.LUserData:
		if !w.first(unsafe.Pointer(v)) {
			return
		}
		w.visited++
		w.bytes += memUserData
		w.push(v.Env)
		w.push(v.Metatable)
	case *glua.LState:
		if !w.first(unsafe.Pointer(v)) {
			return
		}
		w.visited++
		live, capacity := threadStack(v)
		w.bytes += memThread + int64(capacity)*memSlot
		w.push(v.Env)
		for _, x := range live {
			w.push(x)
		}
	}
}

// MeasureMemory is a control message: a Lua service takes its estimate
// now, publishes it (Info.Memory), and answers with bytes and whether the
// walk was complete. The console's mem and the admin API send it.
type MeasureMemory struct{}

func (s *Service) measure(c *actor.Context, m *actor.Message) {
	mem := s.memory()
	c.SetMemory(mem.Bytes)
	if m.Session != 0 {
		if err := c.Reply(m.From, m.Session, mem.Bytes, mem.Complete); err != nil {
			c.Fail(m.From, m.Session, err)
		}
	}
}

// lMemory is tern.memory(): the service's estimate in bytes, and whether
// it is complete (false: a lower bound).
func lMemory(s *Service, L *glua.LState) int {
	m := s.memory()
	s.c.SetMemory(m.Bytes)
	L.Push(glua.LNumber(m.Bytes))
	L.Push(glua.LBool(m.Complete))
	return 2
}
