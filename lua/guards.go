package lua

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// Guards against runaway scripts: deep recursion, deep Go re-entry (pcall,
// xpcall, coroutine.resume nested in one another) and huge unpacks. Each
// raises a Lua error that names the limit, where the script is, instead
// of crashing the process (a Go stack overflow is fatal) or stalling it.

// MaxCallDepth is how deep Lua calls may nest in one coroutine (a task, a
// pcall's function, a script's coroutine). Past it, the call raises
// "stack overflow (Lua calls nested deeper than 200000)" at the script's
// line, with a traceback.
const MaxCallDepth = 200_000

// MaxNesting is how deep pcall, xpcall and coroutine.resume may nest in
// one another: each level is a Go re-entry into the VM, and the Go stack
// they use cannot grow without bound. Past it, the call raises "pcall
// nesting too deep (more than 10000 levels)".
const MaxNesting = 10_000

// MaxUnpack is the most values unpack returns; past it, unpack raises
// "too many results to unpack" at once.
const MaxUnpack = 1 << 21

// callSlack is how many frames past MaxCallDepth the error handling of a
// stack overflow (the traceback, an xpcall handler) may use.
const callSlack = 256

// The call stack. gopher-lua's growing call stack (Options.MinimizeStackMemory)
// holds its frames in segments of 8, found through a slice of segment
// pointers made at its full size when the state is made: 8 bytes per frame
// of the maximum, for every coroutine, used or not. And at that maximum,
// it panics with a bare "lua callstack overflow" (no position, no
// traceback): its IsFull never says full. So the VMs' states start with a
// small stack (vmOptions.CallStackSize) and patchStack gives each the
// IsFull below, which grows the slice of segment pointers by doubling up
// to MaxCallDepth, then raises a proper Lua error.
//
// IsFull is reached through the interface's method table (an itab); a
// patched state's stack interface points at a copy of that table whose
// IsFull is stackIsFull. As for the frame offsets in yieldable.go, init
// checks the layouts it relies on and panics if the pinned gopher-lua's
// (or Go's) ever change, which every test run would show.

// agStack mirrors gopher-lua's autoGrowingCallFrameStack.
type agStack struct {
	segments []unsafe.Pointer // *callFrameStackSegment; [-1] is the owner (stackHeader)
	segIdx   uint16
	segSp    uint8
}

// agRegistry mirrors the head of gopher-lua's registry (the value stack).
type agRegistry struct {
	array   []glua.LValue
	top     int
	growBy  int
	maxSize int
}

const framesPerSegment = 8 // glua.FramesPerSegment

var stackLayout struct {
	stack uintptr // LState.stack (an interface)
	reg   uintptr // LState.reg
	itab  unsafe.Pointer
}

// patchedItab is the copy of the stack's method table with IsFull
// replaced. Static memory: the garbage collector ignores it.
var patchedItab [16]uintptr

// itabFuncs is where an itab's method pointers start (Inter, Type, Hash).
const itabFuncs = 3

func init() {
	if glua.FramesPerSegment != framesPerSegment {
		panic("lua: gopher-lua layout changed: FramesPerSegment")
	}
	lt := reflect.TypeOf(glua.LState{})
	sf, ok := lt.FieldByName("stack")
	if !ok || sf.Type.Kind() != reflect.Interface {
		panic("lua: gopher-lua layout changed: LState.stack")
	}
	rf, ok := lt.FieldByName("reg")
	if !ok || rf.Type.Kind() != reflect.Pointer {
		panic("lua: gopher-lua layout changed: LState.reg")
	}
	stackLayout.stack, stackLayout.reg = sf.Offset, rf.Offset
	checkFields(rf.Type.Elem(), reflect.TypeOf(agRegistry{}))

	L := glua.NewState(glua.Options{SkipOpenLibs: true, MinimizeStackMemory: true, CallStackSize: 8})
	st := reflect.ValueOf(L).Elem().FieldByIndex(sf.Index).Elem() // *autoGrowingCallFrameStack
	ptrType := st.Type()
	if ptrType.Kind() != reflect.Pointer {
		panic("lua: gopher-lua layout changed: call stack type")
	}
	checkFields(ptrType.Elem(), reflect.TypeOf(agStack{}))

	words := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), sf.Offset))
	itab := (*[itabFuncs + 9]uintptr)(words[0])
	// The itab's type is the stack's type, and its methods, sorted by
	// name, are the stack type's methods of those names.
	rtype := (*[2]unsafe.Pointer)(unsafe.Pointer(&ptrType))[1]
	if itab[1] != uintptr(rtype) {
		panic("lua: Go itab layout changed")
	}
	names := make([]string, sf.Type.NumMethod())
	for i := range names {
		names[i] = sf.Type.Method(i).Name
	}
	want := []string{"At", "FreeAll", "IsEmpty", "IsFull", "Last", "Pop", "Push", "SetSp", "Sp"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		panic("lua: gopher-lua layout changed: callFrameStack methods " + fmt.Sprint(names))
	}
	for i, name := range names {
		m, ok := ptrType.MethodByName(name)
		if !ok || m.Func.Pointer() != itab[itabFuncs+i] {
			panic("lua: Go itab layout changed: " + name)
		}
	}
	copy(patchedItab[:], itab[:])
	patchedItab[itabFuncs+3] = reflect.ValueOf(stackIsFull).Pointer()
	stackLayout.itab = words[0]
}

// checkFields panics unless gopher-lua's struct t starts with the fields
// of mirror, at the same offsets and of the same kinds and sizes.
func checkFields(t, mirror reflect.Type) {
	for i := range mirror.NumField() {
		m := mirror.Field(i)
		f, ok := t.FieldByName(m.Name)
		if !ok || f.Offset != m.Offset || f.Type.Kind() != m.Type.Kind() || f.Type.Size() != m.Type.Size() {
			panic(fmt.Sprintf("lua: gopher-lua layout changed: %s.%s", t.Name(), m.Name))
		}
	}
}

// stackHeader is kept in the word before a patched stack's segment
// pointers.
type stackHeader struct {
	L *glua.LState
}

func callStackOf(L *glua.LState) *agStack {
	words := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), stackLayout.stack))
	return (*agStack)(words[1])
}

func registryOf(L *glua.LState) *agRegistry {
	return *(**agRegistry)(unsafe.Add(unsafe.Pointer(L), stackLayout.reg))
}

// patchStack makes L's call stack grow on demand up to MaxCallDepth. L is
// new: its stack holds at most one frame.
func patchStack(L *glua.LState) {
	words := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), stackLayout.stack))
	if words[0] != stackLayout.itab {
		return // not a growing stack (MinimizeStackMemory unset)
	}
	cs := (*agStack)(words[1])
	setSegments(cs, L, len(cs.segments))
	words[0] = unsafe.Pointer(&patchedItab)
}

// setSegments gives cs room for n segments, with the header before them.
func setSegments(cs *agStack, L *glua.LState, n int) {
	segs := make([]unsafe.Pointer, n+1)
	segs[0] = unsafe.Pointer(&stackHeader{L})
	copy(segs[1:], cs.segments)
	cs.segments = segs[1:]
}

func headerOf(cs *agStack) *stackHeader {
	return (*stackHeader)(*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(cs.segments)), -int(unsafe.Sizeof(unsafe.Pointer(nil))))))
}

// stackIsFull is the patched stacks' IsFull, called before every frame is
// pushed. It has the method's signature: the receiver comes first.
func stackIsFull(cs *agStack) bool {
	if int(cs.segIdx) < len(cs.segments)-1 || cs.segSp < framesPerSegment {
		return false
	}
	return growStack(cs)
}

const (
	maxSegs   = MaxCallDepth / framesPerSegment
	slackSegs = (MaxCallDepth + callSlack) / framesPerSegment
)

// growStack runs when every segment is full: it doubles the room, up to
// MaxCallDepth; there, it raises the error (with room left for handling
// it); past that room, it says full (gopher-lua raises "stack overflow").
func growStack(cs *agStack) bool {
	n := len(cs.segments)
	h := headerOf(cs)
	switch {
	case n >= slackSegs:
		return true
	case n >= maxSegs:
		setSegments(cs, h.L, slackSegs)
		h.L.RaiseError("stack overflow (Lua calls nested deeper than %d)", MaxCallDepth)
		return true
	}
	setSegments(cs, h.L, min(2*n, maxSegs))
	// The value stack grows with the calls: from now on by as much as it
	// holds, so that deep recursion copies it a logarithmic number of times.
	if rg := registryOf(h.L); rg.growBy < cap(rg.array) {
		rg.growBy = cap(rg.array)
	}
	return false
}

// shrinkStack gives a pooled coroutine that went deep its small stack back.
// Its stack holds only the loop's frame.
func shrinkStack(L *glua.LState) {
	cs := callStackOf(L)
	if n := vmOptions.CallStackSize / framesPerSegment; len(cs.segments) > n && int(cs.segIdx) < n {
		segs := make([]unsafe.Pointer, n+1)
		segs[0] = unsafe.Pointer(headerOf(cs))
		copy(segs[1:], cs.segments[:n])
		cs.segments = segs[1:]
	}
}

// callDepth is the number of frames on L's call stack.
func callDepth(L *glua.LState) int {
	cs := callStackOf(L)
	return int(cs.segIdx)*framesPerSegment + int(cs.segSp)
}

// namedLimit adds the limit to gopher-lua's own "registry overflow": the
// value stack of a coroutine (locals, arguments, results of every frame)
// holds at most vmOptions.RegistryMaxSize values.
func namedLimit(obj glua.LValue) glua.LValue {
	if msg, ok := obj.(glua.LString); ok && strings.HasSuffix(string(msg), "registry overflow") {
		return msg + glua.LString(fmt.Sprintf(" (a coroutine's value stack holds at most %d values)", vmOptions.RegistryMaxSize))
	}
	return obj
}
