package lua

import (
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// The budget of a handler run (actor.Monitor.KillAfter, config.lua's
// monitor.kill_ms). The pool's monitor times each run of a service's
// handler; past the budget it asks the service to stop the run
// (Context.SetInterrupt), and the VM raises an error inside the handler at
// its next loop back-edge or call:
//
//	echo.lua:12: handler ran past kill_ms (200 ms)
//
// It is raised again at every back-edge and call until the run ends, so
// a script's own pcall cannot swallow it: the pcall returns false with the
// error, and the code around it is stopped at its next back-edge or call,
// up to the task, which ends as any raising task does (the caller of a
// Call gets the error; the service takes its next message). Only a
// running handler counts: a task suspended in tern.call or tern.sleep is
// not running.
//
// gopher-lua checks a context.Context between any two instructions
// (LState.SetContext), which makes every instruction about 1.8x slower.
// Instead, tern wraps the handlers of the instructions that loop or call
// in gopher-lua's dispatch table (jumpTable in its vm.go): a backward JMP
// (while, repeat, break-less loops), FORLOOP, TFORLOOP, CALL and TAILCALL.
// A wrapper reads one global counter, budgetArmed, non-zero only while
// some run somewhere has run past its budget; then (and only then) it
// asks whether its own VM must stop. Straight-line code cannot run long
// without one of these, so every runaway handler meets a check.
//
// jumpTable is a private variable of the pinned gopher-lua (v1.1.2),
// reached by go:linkname. init checks, by running a few chunks, that each
// wrapper is where its instruction dispatches and that it both runs the
// instruction and raises; a different gopher-lua fails every test run
// (and every program) at start-up.

// instFunc is gopher-lua's instFunc, with its *callFrame as a pointer.
type instFunc func(L *glua.LState, inst uint32, baseframe unsafe.Pointer) int

//go:linkname jumpTable github.com/yuin/gopher-lua.jumpTable
var jumpTable [glua.OP_NOP + 1]instFunc

// budgetArmed counts the runs past their budget whose end the monitor has
// not seen yet: while it is 0, a wrapper costs one load and a branch.
var budgetArmed atomic.Int32

// armBudget is every Lua service's interrupt function (SetInterrupt).
func armBudget(on bool) {
	if on {
		budgetArmed.Add(1)
	} else {
		budgetArmed.Add(-1)
	}
}

// The instructions' own handlers.
var opJmp, opForLoop, opTForLoop, opCall, opTailCall instFunc

// opMaxArgSbx is gopher-lua's: a jump's sBx is its Bx minus this.
const opMaxArgSbx = (1<<18 - 1) >> 1

// budgetJmp is JMP itself (L.currentFrame.Pc += sBx), not a call to
// gopher-lua's: the most frequent of the five, it is worth the one
// indirect call less.
func budgetJmp(L *glua.LState, inst uint32, _ unsafe.Pointer) int {
	sbx := int(inst&0x3ffff) - opMaxArgSbx
	if sbx < 0 && budgetArmed.Load() != 0 { // backward
		checkBudget(L, glua.OP_JMP)
	}
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), jmpLayout.current))
	*(*int)(unsafe.Add(cf, jmpLayout.pc)) += sbx
	return 0
}

// jmpLayout is where budgetJmp finds the current frame's Pc: the offsets
// yieldable.go's init finds too, found here by a variable's initializer,
// which runs before any init. init's check runs jumps both ways.
var jmpLayout = func() (l struct{ current, pc uintptr }) {
	cur, ok := reflect.TypeOf(glua.LState{}).FieldByName("currentFrame")
	if !ok || cur.Type.Kind() != reflect.Pointer {
		panic("lua: gopher-lua layout changed: LState.currentFrame")
	}
	pc, ok := cur.Type.Elem().FieldByName("Pc")
	if !ok || pc.Type.Kind() != reflect.Int {
		panic("lua: gopher-lua layout changed: callFrame.Pc")
	}
	l.current, l.pc = cur.Offset, pc.Offset
	return l
}()

func budgetForLoop(L *glua.LState, inst uint32, bf unsafe.Pointer) int {
	if budgetArmed.Load() != 0 {
		checkBudget(L, glua.OP_FORLOOP)
	}
	return opForLoop(L, inst, bf)
}

func budgetTForLoop(L *glua.LState, inst uint32, bf unsafe.Pointer) int {
	if budgetArmed.Load() != 0 {
		checkBudget(L, glua.OP_TFORLOOP)
	}
	return opTForLoop(L, inst, bf)
}

func budgetCall(L *glua.LState, inst uint32, bf unsafe.Pointer) int {
	if budgetArmed.Load() != 0 {
		checkBudget(L, glua.OP_CALL)
	}
	return opCall(L, inst, bf)
}

func budgetTailCall(L *glua.LState, inst uint32, bf unsafe.Pointer) int {
	if budgetArmed.Load() != 0 {
		checkBudget(L, glua.OP_TAILCALL)
	}
	return opTailCall(L, inst, bf)
}

// checkBudget raises the budget error in L if L's service runs a run the
// monitor asked to stop. It runs on the goroutine running L; L may be any
// gopher-lua state of the process (config.lua's, a test's), not only a
// service's.
//
//go:noinline
func checkBudget(L *glua.LState, op int) {
	if selfCheck.L != nil && L == selfCheck.L {
		selfCheck.op = op
		L.RaiseError(budgetMsg, 0)
	}
	s := serviceOfAny(L)
	if s == nil || s.c == nil {
		return
	}
	if d := s.c.Expired(); d > 0 {
		L.RaiseError(budgetMsg, d.Milliseconds())
	}
	if s.mem != nil {
		s.checkMemoryInRun(L) // the memory watch asked (memlimit.go)
	}
}

// budgetMsg is the error a handler past its budget gets.
const budgetMsg = "handler ran past kill_ms (%d ms)"

// serviceOfAny is serviceOf for any state: nil for one that is not a
// service VM's.
func serviceOfAny(L *glua.LState) *Service {
	if L.G == nil || L.G.Registry == nil {
		return nil
	}
	ud, ok := L.G.Registry.RawGetInt(serviceSlot).(*glua.LUserData)
	if !ok {
		return nil
	}
	s, _ := ud.Value.(*Service)
	return s
}

// selfCheck is the state init's check runs, and the wrapper that raised
// in it last.
var selfCheck struct {
	L  *glua.LState
	op int
}

func init() {
	for _, op := range []int{glua.OP_JMP, glua.OP_FORLOOP, glua.OP_TFORLOOP, glua.OP_CALL, glua.OP_TAILCALL} {
		if jumpTable[op] == nil {
			panic(fmt.Sprintf("lua: gopher-lua layout changed: jumpTable[%d] is nil", op))
		}
	}
	if jumpTable[glua.OP_NOP] == nil {
		panic("lua: gopher-lua layout changed: jumpTable is shorter")
	}
	opJmp, jumpTable[glua.OP_JMP] = jumpTable[glua.OP_JMP], budgetJmp
	opForLoop, jumpTable[glua.OP_FORLOOP] = jumpTable[glua.OP_FORLOOP], budgetForLoop
	opTForLoop, jumpTable[glua.OP_TFORLOOP] = jumpTable[glua.OP_TFORLOOP], budgetTForLoop
	opCall, jumpTable[glua.OP_CALL] = jumpTable[glua.OP_CALL], budgetCall
	opTailCall, jumpTable[glua.OP_TAILCALL] = jumpTable[glua.OP_TAILCALL], budgetTailCall
	if err := checkBudgetWrappers(); err != nil {
		panic("lua: gopher-lua layout changed: the budget's instruction wrappers (budget.go): " + err.Error())
	}
}

// checkBudgetWrappers runs chunks that use each wrapped instruction, with
// the budget off (they must compute the right result: the wrappers run
// the instructions) and on (the expected wrapper must raise, and a
// forward jump must not).
func checkBudgetWrappers() error {
	L := glua.NewState(glua.Options{SkipOpenLibs: true, CallStackSize: 64, RegistrySize: 256})
	defer L.Close()
	selfCheck.L = L
	defer func() { selfCheck.L = nil }()
	cases := []struct {
		src  string
		want float64 // the result with the budget off
		op   int     // the wrapper that raises with the budget on; -1: none
	}{
		{"local i, s = 0, 0 while i < 10 do i = i + 1 s = s + i end return s", 55, glua.OP_JMP},
		{"local i = 0 repeat i = i + 2 until i >= 10 return i", 10, glua.OP_JMP},
		{"local s = 0 for i = 1, 10 do s = s + i end return s", 55, glua.OP_FORLOOP},
		{"local function it(t, i) i = i + 1 if t[i] then return i, t[i] end end local s = 0 for _, v in it, {1, 2, 3, 4}, 0 do s = s + v end return s", 10, glua.OP_TFORLOOP},
		{"local function f(x) return x + 1 end local y = f(41) return y", 42, glua.OP_CALL},
		{"local function f(n, a) if n == 0 then return a end return f(n - 1, a + n) end return (f(10, 0))", 55, glua.OP_CALL},
		{"return (function(x) return x * 2 end)(21)", 42, glua.OP_TAILCALL},
		{"local x = 3 if x > 5 then x = 1 else x = 2 end return x", 2, -1},
	}
	run := func(src string) (glua.LValue, error) {
		fn, err := L.LoadString(src)
		if err != nil {
			return nil, err
		}
		L.Push(fn)
		if err := L.PCall(0, 1, nil); err != nil {
			return nil, err
		}
		v := L.Get(-1)
		L.Pop(1)
		return v, nil
	}
	for _, c := range cases {
		v, err := run(c.src)
		if err != nil {
			return fmt.Errorf("%q: %v", c.src, err)
		}
		if n, ok := v.(glua.LNumber); !ok || float64(n) != c.want {
			return fmt.Errorf("%q returned %v, not %v", c.src, v, c.want)
		}
		selfCheck.op = -1
		budgetArmed.Add(1)
		v, err = run(c.src)
		budgetArmed.Add(-1)
		if c.op < 0 {
			if err != nil || selfCheck.op != -1 {
				return fmt.Errorf("%q raised with no loop or call: %v", c.src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(budgetMsg, 0)) {
			return fmt.Errorf("%q was not interrupted (%v, %v)", c.src, v, err)
		}
		if selfCheck.op != c.op {
			return fmt.Errorf("%q was interrupted by opcode %d, not %d", c.src, selfCheck.op, c.op)
		}
	}
	return nil
}

// running tells the monitor that task co runs now, and the command it
// serves: a request's, "init", "on_shutdown", ...; a fork or a timeout
// serves none.
func (s *Service) running(co *coro) {
	cmd := co.cmd
	if cmd == "" {
		cmd = "(task)"
	}
	s.c.Running(cmd)
}
