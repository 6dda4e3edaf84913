package lua_test

import (
	"runtime"
	"testing"
)

// tern.memory() follows what a service holds: an idle service is a few
// tens of KB, 10,000 strings of 1 KB add about 10 MB, and dropping them
// takes them off again. The estimate is checked against Go's own count
// of the heap the strings took.
func TestMemoryEstimate(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "memhog")
	idle := e.call(t, a, "memory")
	if idle[1] != true {
		t.Fatalf("idle estimate incomplete: %v", idle)
	}
	base := idle[0].(int64)
	if base < 8<<10 || base > 64<<10 {
		t.Errorf("idle service: %d B", base)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e.call(t, a, "grow", 10_000, 1024)
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := e.call(t, a, "memory")[0].(int64) - base
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("idle %d B; after 10,000 strings of 1 KB: +%d B estimated, +%d B of Go heap", base, grown, heap)
	if grown < 10_000*1024 || grown > 12_000*1024 {
		t.Errorf("grew by %d B, want about 10.5 MB", grown)
	}
	if heap > 0 && (grown < heap/2 || grown > heap*2) {
		t.Errorf("estimate +%d B is far from the heap's +%d B", grown, heap)
	}

	e.call(t, a, "free")
	if now := e.call(t, a, "memory")[0].(int64); now > base+16<<10 {
		t.Errorf("after free: %d B, idle was %d B", now, base)
	}
}

// BenchmarkMemoryEstimate: tern.memory() on an idle service, the call
// included.
func BenchmarkMemoryEstimate(b *testing.B) {
	e := newEnv(b)
	a := e.launch(b, "memhog")
	for range b.N {
		e.call(b, a, "memory")
	}
}
