package actor

import "testing"

// The handle table finds what was put, under its full address only, and
// drops the leaves that emptied once the handles moved past them.
func TestHandleTable(t *testing.T) {
	var tb handleTable
	const n = 3<<leafBits - 1 // three leaves: 1..4095, 4096..8191, 8192..12287
	procs := make([]*proc, n+1)
	for h := uint32(1); h <= n; h++ {
		procs[h] = &proc{addr: MakeAddr(0, h)}
		tb.put(procs[h])
	}
	if tb.count() != n {
		t.Fatalf("count %d", tb.count())
	}
	for _, h := range []uint32{1, 4095, 4096, 8191, n} {
		if p := tb.get(MakeAddr(0, h)); p != procs[h] {
			t.Errorf("get %d: %v", h, p)
		}
	}
	if p := tb.get(MakeAddr(7, 5)); p != nil {
		t.Error("an address of another node found a local service")
	}
	if p := tb.get(MakeAddr(0, n+1)); p != nil {
		t.Error("a handle never put was found")
	}
	// Empty the first leaf (handles 0..4095; 0 is never handed out).
	for h := uint32(1); h < 1<<leafBits; h++ {
		tb.remove(MakeAddr(0, h))
	}
	if tb.top[0].Load()[0].Load() != nil {
		t.Error("the emptied first leaf was kept")
	}
	if tb.get(MakeAddr(0, 5)) != nil || tb.get(MakeAddr(0, 4096)) != procs[4096] {
		t.Error("lookups after the leaf went")
	}
	tb.remove(MakeAddr(0, 4096))
	tb.remove(MakeAddr(0, 4096)) // twice: no change
	if tb.count() != n-(1<<leafBits) {
		t.Errorf("count %d after removing %d", tb.count(), 1<<leafBits)
	}
	// The current leaf stays while emptied, and goes once handles move on.
	for h := uint32(2 << leafBits); h <= n; h++ {
		tb.remove(MakeAddr(0, h))
	}
	if tb.top[0].Load()[2].Load() == nil {
		t.Error("the current leaf was dropped")
	}
	tb.put(&proc{addr: MakeAddr(0, n+1)})
	if tb.top[0].Load()[2].Load() != nil {
		t.Error("the emptied leaf stayed after the handles moved on")
	}
}

func BenchmarkHandleGet(b *testing.B) {
	var tb handleTable
	p := &proc{addr: MakeAddr(0, 12345)}
	tb.put(p)
	for range b.N {
		if tb.get(p.addr) != p {
			b.Fatal("lost")
		}
	}
}
