package actor

import (
	"container/heap"
	"sync"
	"time"
)

// timers is the runtime's one timer queue: a min-heap served by a single
// goroutine, instead of a Go timer (and a goroutine per firing) for each
// tern.sleep. A due entry becomes a Timer message in its service's mailbox.
// Entries due at the same instant fire in the order they were set.
type timers struct {
	sys  *System
	mu   sync.Mutex
	h    timerHeap
	seq  uint64
	kick chan struct{} // an earlier deadline arrived, or stop
	stop chan struct{}
	done chan struct{}
}

type timerEntry struct {
	due     int64 // ns since sys.start
	seq     uint64
	to      Addr
	session uint32
}

type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].due < h[j].due || h[i].due == h[j].due && h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newTimers(sys *System) *timers {
	t := &timers{sys: sys, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go t.loop()
	return t
}

// add schedules a Timer message with session to reach to after d.
func (t *timers) add(d time.Duration, to Addr, session uint32) {
	due := int64(t.sys.Now() + d)
	t.mu.Lock()
	t.seq++
	heap.Push(&t.h, timerEntry{due: due, seq: t.seq, to: to, session: session})
	first := t.h[0].seq == t.seq
	t.mu.Unlock()
	if first {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

func (t *timers) loop() {
	defer close(t.done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	for {
		now := int64(t.sys.Now())
		next := int64(-1)
		t.mu.Lock()
		for len(t.h) > 0 {
			if e := t.h[0]; e.due > now {
				next = e.due
				break
			}
			e := heap.Pop(&t.h).(timerEntry)
			t.mu.Unlock()
			m := NewMessage()
			m.Kind, m.Session = Timer, e.session
			_ = t.sys.Post(e.to, m) // the service may be gone: fine
			t.mu.Lock()
		}
		t.mu.Unlock()
		wait := time.Hour
		if next >= 0 {
			wait = time.Duration(next - now)
		}
		clock.Reset(wait)
		select {
		case <-clock.C:
		case <-t.kick:
		case <-t.stop:
			return
		}
	}
}

func (t *timers) close() {
	close(t.stop)
	<-t.done
}
