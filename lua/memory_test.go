package lua_test

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
)

// tern.memory() follows what a service holds: an idle service is a few
// tens of KB, 10,000 strings of 1 KB add about 10 MB, and dropping them
// takes them off again. The log shows Go's own count of the heap the
// strings took beside the estimate (not asserted: other tests' garbage
// and the race detector move it).
func TestMemoryEstimate(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "memhog")
	idle := e.call(t, a, "memory")
	if idle[1] != true {
		t.Fatalf("idle estimate incomplete: %v", idle)
	}
	base := idle[0].(int64)
	if base < 4<<10 || base > 64<<10 {
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

// Past its soft limit a service is warned about; past its hard limit it
// is stopped, even inside one handler that keeps growing: the handler is
// interrupted, its caller gets the error, and the other services go on.
func TestMemoryLimits(t *testing.T) {
	e := newEnvConfig(t, lua.Config{Memory: lua.MemoryLimit{Soft: 2 << 20, Hard: 16 << 20}})
	a := e.launch(t, "memhog")
	other := e.launch(t, "memhog")

	e.call(t, a, "grow", 3000, 1024) // 3 MB: past soft
	e.call(t, a, "grow", 1, 16)      // the check runs between messages
	waitFor(t, func() bool { return strings.Contains(e.log.String(), "service over its soft memory limit") })
	waitFor(t, func() bool { in, _ := e.sys.Info(a); return in.Memory >= 3<<20 }) // published at the turn's end

	// One call that would hold 1 GB: stopped long before.
	_, err := e.try(a, "grow", 1<<20, 1024)
	if err == nil || !strings.Contains(err.Error(), "memory limit") || !strings.Contains(err.Error(), "over its hard limit of 16777216 B") {
		t.Fatalf("grow past hard: %v", err)
	}
	waitFor(t, func() bool { _, alive := e.sys.Info(a); return !alive })
	if !strings.Contains(e.log.String(), "service stopped: over its hard memory limit") {
		t.Errorf("no log line for the stop")
	}
	if res := e.call(t, other, "grow", 10, 100); res[0] != int64(10) {
		t.Errorf("other service: %v", res)
	}
}

// A request's wall time counts its waits, its busy (CPU) time does not:
// three requests sleeping 100 ms each make about 300 ms of wall time and
// almost no busy time.
func TestWallAndBusyTime(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "napper")
	for range 3 {
		e.call(t, a, "nap", 100)
	}
	// The figures are published when the service's turn ends, which may
	// be just after the last answer arrived.
	var in actor.Info
	waitFor(t, func() bool { in, _ = e.sys.Info(a); return in.Wall >= 290*time.Millisecond })
	if in.Wall > 2*time.Second {
		t.Errorf("wall %v after three 100 ms naps", in.Wall)
	}
	if in.Busy > 50*time.Millisecond {
		t.Errorf("busy %v for requests that only slept", in.Busy)
	}
}

// A table made during the start is compacted when the start ends: same
// contents, a suspended next() walk goes on, and it grows again.
func TestCompactAfterStart(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "compact")
	// 40 - 14 deleted string keys, 10 in the array part, 2.5 and true
	const n = 26 + 10 + 2
	res := e.call(t, a, "check")
	if want := []any{int64(n), int64(n), int64(n), true}; !reflect.DeepEqual(res, want) {
		t.Fatalf("check: got %v, want %v (distinct keys walked, steps, pairs, contents)", res, want)
	}
	res = e.call(t, a, "grow")
	// 300 new keys but 2.5, which was there; k2 gone
	if want := []any{int64(n - 1 + 299), int64(100), int64(100), int64(99), nil}; !reflect.DeepEqual(res, want) {
		t.Fatalf("grow: got %v, want %v", res, want)
	}
}

// An idle service's VM is small: its tables compacted, its value stacks
// shrunk, the prelude's functions shared. A minimal one (echo.lua) holds
// about 17 KB of Go heap here; skynet's holds about 43 KB of Lua heap.
func TestIdleServiceHeap(t *testing.T) {
	const n = 500
	e := newEnv(t)
	e.launch(t, "echo")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	addrs := make([]actor.Addr, n)
	for i := range addrs {
		addrs[i] = e.launch(t, "echo")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d B of Go heap per idle service", per)
	if per > 22<<10 {
		t.Errorf("an idle service holds %d B of Go heap, want at most 22 KiB", per)
	}
	if res := e.call(t, addrs[n-1], "echo", 7); res[0] != int64(7) {
		t.Fatalf("echo: %v", res)
	}
}
