package lua

import (
	"fmt"
	"reflect"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// gopher-lua runs a metamethod (__index, __add, ...), a generic-for
// iterator, or any Lua function called from Go (table.sort's comparator,
// string.gsub's callback, require) in a nested Go call. A yield from there
// does not suspend the coroutine: it returns a wrong value and leaves the
// thread broken. So before a blocking call yields, canYield walks the call
// frames and refuses with a clear error when any frame between the caller
// and the task's root was not entered by a plain CALL or TAILCALL.
//
// gopher-lua does not export its frames, so we read them with offsets found
// once by reflection; init panics if the pinned gopher-lua's layout ever
// changes, which every test run would show.
var frameLayout struct {
	current uintptr // LState.currentFrame
	fn      uintptr // callFrame.Fn
	parent  uintptr // callFrame.Parent
	pc      uintptr // callFrame.Pc
}

func init() {
	field := func(t reflect.Type, name string, want reflect.Kind) reflect.StructField {
		f, ok := t.FieldByName(name)
		if !ok || f.Type.Kind() != want {
			panic(fmt.Sprintf("lua: gopher-lua layout changed: %s.%s", t.Name(), name))
		}
		return f
	}
	cur := field(reflect.TypeOf(glua.LState{}), "currentFrame", reflect.Pointer)
	frame := cur.Type.Elem()
	frameLayout.current = cur.Offset
	fn := field(frame, "Fn", reflect.Pointer)
	if fn.Type != reflect.TypeOf((*glua.LFunction)(nil)) {
		panic("lua: gopher-lua layout changed: callFrame.Fn")
	}
	frameLayout.fn = fn.Offset
	frameLayout.parent = field(frame, "Parent", reflect.Pointer).Offset
	frameLayout.pc = field(frame, "Pc", reflect.Int).Offset
}

func currentFrame(L *glua.LState) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), frameLayout.current))
}

func frameFn(f unsafe.Pointer) *glua.LFunction {
	return *(**glua.LFunction)(unsafe.Add(f, frameLayout.fn))
}

func frameParent(f unsafe.Pointer) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(f, frameLayout.parent))
}

func framePc(f unsafe.Pointer) int {
	return *(*int)(unsafe.Add(f, frameLayout.pc))
}

// plainCalls reports whether every frame of thread L, from the running Go
// function up to the thread's root, was entered by CALL or TAILCALL.
func plainCalls(L *glua.LState) bool {
	f := currentFrame(L)
	if f == nil {
		return false
	}
	for {
		parent := frameParent(f)
		if parent == nil {
			return true
		}
		fn := frameFn(parent)
		if fn == nil || fn.IsG {
			return false // called from Go code: a nested call
		}
		pc := framePc(parent)
		if pc < 1 || pc > len(fn.Proto.Code) {
			return false
		}
		if op := int(fn.Proto.Code[pc-1] >> 26); op != glua.OP_CALL && op != glua.OP_TAILCALL {
			return false // a metamethod or a for-in iterator
		}
		f = parent
	}
}

// canYield reports whether a yield from the Go function running in L
// reaches top, the task's thread, through plain calls only. Threads between
// L and top are the pass-through resumes of pcall and of the script's own
// coroutines; each must be clean too.
func canYield(L, top *glua.LState) bool {
	for th := L; th != nil; th = th.Parent {
		if !plainCalls(th) {
			return false
		}
		if th == top {
			return true
		}
	}
	return false
}

// rootFn returns the function at the bottom of thread L's call stack: for
// the pooled coroutines, the prelude's loop (coro.go).
func rootFn(L *glua.LState) *glua.LFunction {
	f := currentFrame(L)
	if f == nil {
		return nil
	}
	for p := frameParent(f); p != nil; p = frameParent(p) {
		f = p
	}
	return frameFn(f)
}

// scriptPos returns "name:line:" for the innermost frame of thread L that
// runs script code (neither Go nor the prelude), or "" if there is none.
func scriptPos(L *glua.LState) string {
	for f := currentFrame(L); f != nil; f = frameParent(f) {
		fn := frameFn(f)
		if fn == nil || fn.IsG || fn.Proto == nil || fn.Proto.SourceName == preludeName {
			continue
		}
		pc := framePc(f)
		if pc < 1 || pc > len(fn.Proto.DbgSourcePositions) {
			continue
		}
		return fmt.Sprintf("%s:%d:", fn.Proto.SourceName, fn.Proto.DbgSourcePositions[pc-1])
	}
	return ""
}
