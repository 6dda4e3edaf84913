package bench

import "testing"

// BenchmarkLuaCompute: pure Lua work inside one handler
// (bench/testdata/compute.lua), what the runaway-handler budget's checks at
// loop back-edges and calls cost. loop: one op is one iteration of a while
// loop and one of a numeric for; calls: one op is one Lua function call
// (recursive fib); mixed: one op is a loop iteration with table stores and
// loads and a method call.
func BenchmarkLuaCompute(b *testing.B) {
	for _, cmd := range []string{"loop", "calls", "mixed"} {
		b.Run(cmd, func(b *testing.B) {
			e := newEnv(b)
			defer e.close()
			c := e.launch("compute")
			e.call(c, cmd, 1000) // warm
			resetTimer(b)
			e.call(c, cmd, b.N)
			stopTimer(b)
		})
	}
}
