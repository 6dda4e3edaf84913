package lua

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// gopher-lua's debug.traceback formats every level, each found by walking
// the stack from the top, then keeps the first 7 and the last 7: quadratic
// in the depth, so minutes at MaxCallDepth. lTraceback gives the same
// text, formatting only the levels it keeps. It is the VMs' debug.traceback
// and the traceback of a task's error (coro.go).

var tailCallOffset = func() uintptr {
	cur, _ := reflect.TypeOf(glua.LState{}).FieldByName("currentFrame")
	f, ok := cur.Type.Elem().FieldByName("TailCall")
	if !ok || f.Type.Kind() != reflect.Int {
		panic("lua: gopher-lua layout changed: callFrame.TailCall")
	}
	return f.Offset
}()

func frameTailCall(f unsafe.Pointer) int {
	return *(*int)(unsafe.Add(f, tailCallOffset))
}

// lTraceback is debug.traceback([thread,] [msg [, level]]) as gopher-lua
// reads its arguments.
func lTraceback(L *glua.LState) int {
	msg := ""
	level := L.OptInt(2, 1)
	ls := L
	if L.GetTop() > 0 {
		if s, ok := L.Get(1).(glua.LString); ok {
			msg = string(s)
		}
		if l, ok := L.Get(1).(*glua.LState); ok {
			ls = l
			msg = ""
		}
	}
	tb := strings.TrimSpace(stackTrace(ls, level))
	if len(msg) > 0 {
		tb = msg + "\n" + tb
	}
	L.Push(glua.LString(tb))
	return 1
}

// entry is one line of a traceback: a level's frame, or a tail call's
// placeholder (level -1), or the closing "[G]: ?" (level -2).
func stackTrace(ls *glua.LState, level int) string {
	var levels []int
	i := 0
	for f := currentFrame(ls); f != nil; f = frameParent(f) {
		levels = append(levels, i)
		i++
		if fn := frameFn(f); fn != nil && !fn.IsG {
			for tc := frameTailCall(f); tc > 0; tc-- {
				levels = append(levels, -1)
				i++
			}
		}
	}
	levels = append(levels, -2)
	levels = levels[max(0, min(level, len(levels))):]
	line := func(l int) string {
		switch l {
		case -1:
			return "\t(tailcall): ?"
		case -2:
			return "\t[G]: ?"
		}
		return fmt.Sprintf("\t%v in %v", ls.Where(l), frameName(ls, l))
	}
	buf := make([]string, 0, 15)
	if len(levels) > 20 {
		for _, l := range levels[:7] {
			buf = append(buf, line(l))
		}
		buf = append(buf, "\t...")
		levels = levels[len(levels)-7:]
	}
	for _, l := range levels {
		buf = append(buf, line(l))
	}
	return "stack traceback:\n" + strings.Join(buf, "\n")
}

// frameName is gopher-lua's formattedFrameFuncName of level l.
func frameName(ls *glua.LState, l int) string {
	dbg, ok := ls.GetStack(l)
	if !ok {
		return "?"
	}
	if _, err := ls.GetInfo("Sn", dbg, glua.LNil); err != nil {
		return "?"
	}
	name := dbg.Name
	if dbg.What == "main" || name == "" {
		return name
	}
	if name[0] != '(' && name[0] != '<' {
		return "function '" + name + "'"
	}
	return "function " + name
}
