package lua

import (
	"os"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// setBudgetWrappers installs the budget's instruction wrappers (on) or
// gopher-lua's own handlers (off), for an A/B comparison in one process.
// Never while a VM runs.
func setBudgetWrappers(on bool) {
	if on {
		jumpTable[glua.OP_JMP], jumpTable[glua.OP_FORLOOP], jumpTable[glua.OP_TFORLOOP] = budgetJmp, budgetForLoop, budgetTForLoop
		jumpTable[glua.OP_CALL], jumpTable[glua.OP_TAILCALL] = budgetCall, budgetTailCall
	} else {
		jumpTable[glua.OP_JMP], jumpTable[glua.OP_FORLOOP], jumpTable[glua.OP_TFORLOOP] = opJmp, opForLoop, opTForLoop
		jumpTable[glua.OP_CALL], jumpTable[glua.OP_TAILCALL] = opCall, opTailCall
	}
}

// BenchmarkBudgetWrappers: what the wrappers cost on pure Lua work
// (bench/testdata/compute.lua, run in a bare VM: no scheduler, no
// messages), against gopher-lua's own handlers, in one process. Run with
// -count and compare the off and on halves:
//
//	go test -run XXX -bench BudgetWrappers -count 8 ./lua/ | tee out.txt
//	sed -n 's,/off/,/,p' out.txt > off.txt; sed -n 's,/on/,/,p' out.txt > on.txt
//	benchstat off.txt on.txt
func BenchmarkBudgetWrappers(b *testing.B) {
	src, err := os.ReadFile("../bench/testdata/compute.lua")
	if err != nil {
		b.Fatal(err)
	}
	proto, err := compileChunk(src, "compute.lua")
	if err != nil {
		b.Fatal(err)
	}
	L := glua.NewState()
	defer L.Close()
	L.Push(L.NewFunctionFromProto(proto))
	L.Call(0, 1)
	S := L.Get(-1).(*glua.LTable)
	L.Pop(1)
	defer setBudgetWrappers(true)
	for _, cmd := range []string{"loop", "calls", "mixed"} {
		for _, mode := range []string{"off", "on"} {
			b.Run(mode+"/"+cmd, func(b *testing.B) {
				setBudgetWrappers(mode == "on")
				if err := L.CallByParam(glua.P{Fn: S.RawGetString(cmd), NRet: 1}, glua.LNumber(b.N)); err != nil {
					b.Fatal(err)
				}
				L.Pop(1)
			})
		}
	}
}
