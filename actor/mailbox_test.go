package actor

import "testing"

// A ring grown by a burst gives its storage back once drained; a small
// one keeps it for reuse.
func TestRingShrinksWhenDrained(t *testing.T) {
	var r ring
	for i := 0; i < 100000; i++ {
		r.push(i)
	}
	for r.len() > 0 {
		r.pop()
	}
	r.shrink()
	if len(r.buf) > keepRing {
		t.Fatalf("a drained ring keeps %d slots", len(r.buf))
	}
	for i := 0; i < 100; i++ {
		r.push(i)
	}
	for r.len() > 0 {
		r.pop()
	}
	small := len(r.buf)
	r.shrink()
	if len(r.buf) != small || small == 0 {
		t.Fatalf("a small ring was dropped: %d -> %d", small, len(r.buf))
	}
}
