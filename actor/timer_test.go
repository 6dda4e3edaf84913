package actor

import (
	"math/rand"
	"testing"
)

func TestTimerHeapOrder(t *testing.T) {
	var h timerHeap
	for i := 0; i < 1000; i++ {
		h.push(timerEntry{due: int64(rand.Intn(50)), seq: uint64(i)})
	}
	prev := h.pop()
	for len(h) > 0 {
		e := h.pop()
		if e.due < prev.due || e.due == prev.due && e.seq < prev.seq {
			t.Fatalf("out of order: %+v after %+v", e, prev)
		}
		prev = e
	}
}
