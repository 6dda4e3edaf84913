package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// lUnpack is unpack(t [, i [, j]]) (and table.unpack): gopher-lua's grows
// the value stack by its grow step per push past it, copying it each
// time, which is quadratic (seconds for 2e5 values). This one checks the
// count first, makes room once, then pushes. Past MaxUnpack values it
// raises at once.
func lUnpack(L *glua.LState) int {
	tb := L.CheckTable(1)
	i := float64(L.OptNumber(2, 1))
	j := float64(L.OptNumber(3, glua.LNumber(tb.Len())))
	i, j = math.Trunc(i), math.Trunc(j) // as OptInt
	if math.IsNaN(i) || math.IsNaN(j) || i > j {
		return 0
	}
	if j-i >= MaxUnpack {
		L.RaiseError("too many results to unpack (%.14g values; at most %d)", j-i+1, MaxUnpack)
	}
	start, n := int(i), int(j-i)+1
	reserve(L, n)
	for k := range n {
		L.Push(tb.RawGetInt(start + k))
	}
	return n
}

// reserve makes room for n more values on L's value stack, in one step.
func reserve(L *glua.LState, n int) {
	rg := registryOf(L)
	need := rg.top + n
	if need <= cap(rg.array) {
		return
	}
	if need > rg.maxSize {
		L.RaiseError("stack overflow (a service's value stack holds at most %d values)", rg.maxSize)
	}
	size := min(max(need+rg.growBy, 2*cap(rg.array)), rg.maxSize)
	array := make([]glua.LValue, size)
	copy(array, rg.array[:rg.top])
	rg.array = array
}

// MaxStringRep is the longest string string.rep makes: 1 GiB. Past it,
// string.rep raises "resulting string too large" at once, instead of
// asking Go for the memory (which, refused, kills the process).
const MaxStringRep = 1 << 30

// lStringRep is string.rep(s, n).
func lStringRep(L *glua.LState) int {
	str := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if math.IsNaN(n) || n < 1 || str == "" {
		L.Push(glua.LString(""))
		return 1
	}
	n = math.Trunc(n)
	if n*float64(len(str)) > MaxStringRep {
		L.RaiseError("resulting string too large (%.14g bytes; at most %d)", n*float64(len(str)), MaxStringRep)
	}
	L.Push(glua.LString(strings.Repeat(str, int(n))))
	return 1
}
