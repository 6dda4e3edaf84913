package lua

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// A gopher-lua table's first string key makes a Go map sized for 32
// entries (about 2.2 KB), and every string key is also kept in a slice and
// a second map for next(); Go maps never shrink. A service's tables are
// mostly made once, at its start, and few hold many keys: the handler
// table, the script's module tables, the globals. So when a service's
// start ends, compact gives each table the VM can reach (shared ones
// excepted) Go structures of its exact size. Contents, iteration order and
// the positions next() keeps do not change; a table that grows later
// grows as before. On a minimal service it saves about 4 KB of 21.
//
// gopher-lua does not export these fields: as for the frames
// (yieldable.go), init finds their offsets by reflection and panics if the
// pinned version's layout ever changes.
var tableLayout struct {
	array, dict, strdict, keys, k2i uintptr
}

func init() {
	t := reflect.TypeOf(glua.LTable{})
	field := func(name string, want reflect.Type) uintptr {
		f, ok := t.FieldByName(name)
		if !ok || f.Type != want {
			panic(fmt.Sprintf("lua: gopher-lua layout changed: LTable.%s", name))
		}
		return f.Offset
	}
	tableLayout.array = field("array", reflect.TypeOf([]glua.LValue(nil)))
	tableLayout.dict = field("dict", reflect.TypeOf(map[glua.LValue]glua.LValue(nil)))
	tableLayout.strdict = field("strdict", reflect.TypeOf(map[string]glua.LValue(nil)))
	tableLayout.keys = field("keys", reflect.TypeOf([]glua.LValue(nil)))
	tableLayout.k2i = field("k2i", reflect.TypeOf(map[glua.LValue]int(nil)))
}

// compact right-sizes the tables of the service's VM, and the value
// stacks of its main state and pooled coroutines (gopher-lua's smallest
// is 128 slots, 2 KB; they grow again on demand, by RegistryGrowStep). It
// runs on the service's goroutine, between handlers.
func (s *Service) compact() {
	s.walk(compactTable, maxCompact).release()
	shrinkRegistry(s.L)
	for _, c := range s.free {
		shrinkRegistry(c.th)
	}
}

// A service that builds big data at its start must not pay for copying
// it: the walk stops after maxCompact objects, and a table keeps maps
// already holding more than maxCompactKeys keys (their waste is at most
// as much as they hold).
const (
	maxCompact     = 1 << 14
	maxCompactKeys = 256
)

// registrySpare is what shrinkRegistry leaves above a stack's top.
const registrySpare = 8

func shrinkRegistry(L *glua.LState) {
	reg := registryOf(L)
	if reg == nil || reg.top < 0 || len(reg.array) <= reg.top+registrySpare {
		return
	}
	a := make([]glua.LValue, reg.top+registrySpare)
	copy(a, reg.array[:reg.top])
	reg.array = a
}

func compactTable(t *glua.LTable) {
	p := unsafe.Pointer(t)
	if a := (*[]glua.LValue)(unsafe.Add(p, tableLayout.array)); cap(*a) > len(*a) {
		*a = append([]glua.LValue(nil), *a...)
	}
	if k := (*[]glua.LValue)(unsafe.Add(p, tableLayout.keys)); cap(*k) > len(*k) {
		*k = append([]glua.LValue(nil), *k...)
	}
	resize((*map[string]glua.LValue)(unsafe.Add(p, tableLayout.strdict)))
	resize((*map[glua.LValue]glua.LValue)(unsafe.Add(p, tableLayout.dict)))
	resize((*map[glua.LValue]int)(unsafe.Add(p, tableLayout.k2i)))
}

// tableSize is how many slots t's array and keys its maps hold.
func tableSize(t *glua.LTable) int {
	p := unsafe.Pointer(t)
	return len(*(*[]glua.LValue)(unsafe.Add(p, tableLayout.array))) +
		len(*(*map[string]glua.LValue)(unsafe.Add(p, tableLayout.strdict))) +
		len(*(*map[glua.LValue]glua.LValue)(unsafe.Add(p, tableLayout.dict)))
}

// cloneTable gives t, an empty table, the string keys of src, which has
// no others: Go copies a map's memory as it is, where setting each key
// would hash it and grow the map step by step.
func cloneTable(t, src *glua.LTable) {
	p, q := unsafe.Pointer(t), unsafe.Pointer(src)
	*(*map[string]glua.LValue)(unsafe.Add(p, tableLayout.strdict)) = maps.Clone(*(*map[string]glua.LValue)(unsafe.Add(q, tableLayout.strdict)))
	*(*[]glua.LValue)(unsafe.Add(p, tableLayout.keys)) = slices.Clone(*(*[]glua.LValue)(unsafe.Add(q, tableLayout.keys)))
	*(*map[glua.LValue]int)(unsafe.Add(p, tableLayout.k2i)) = maps.Clone(*(*map[glua.LValue]int)(unsafe.Add(q, tableLayout.k2i)))
}

// resize replaces *m by a copy made for exactly its entries (maps.Clone
// would keep the old capacity).
func resize[K comparable, V any](m *map[K]V) {
	if *m == nil || len(*m) > maxCompactKeys {
		return
	}
	out := make(map[K]V, len(*m))
	for k, v := range *m {
		out[k] = v
	}
	*m = out
}
