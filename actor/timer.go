package actor

import (
	"runtime"
	"sync"
	"time"
)

// timers is the runtime's timer queue: instead of a Go timer (and a
// goroutine per firing) for each tern.sleep, entries go into min-heaps, one
// per processor (a service's timers always land in the same shard), each
// served by one goroutine. A due entry becomes a Timer message in its
// service's mailbox. Entries due at the same instant fire in the order they
// were set.
type timers struct {
	shards []timerShard
}

type timerShard struct {
	sys *System
	mu  sync.Mutex
	h   timerHeap
	seq uint64
	// cancelled holds the entries cancelled while still in h. They are
	// skipped when due, and dropped from h at once when they outnumber
	// the live ones, so the heap's size follows the live timers.
	cancelled map[timerKey]struct{}
	kick      chan struct{} // an earlier deadline arrived
	stop      chan struct{}
	done      chan struct{}
	due       []timerEntry // reused batch of due entries, owned by loop
}

type timerKey struct {
	to      Addr
	session uint32
}

type timerEntry struct {
	due     int64 // ns since sys.start
	seq     uint64
	to      Addr
	session uint32
}

func newTimers(sys *System) *timers {
	t := &timers{shards: make([]timerShard, runtime.GOMAXPROCS(0))}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.sys = sys
		sh.kick = make(chan struct{}, 1)
		sh.stop = make(chan struct{})
		sh.done = make(chan struct{})
		go sh.loop()
	}
	return t
}

// add schedules a Timer message with session to reach to after d.
func (t *timers) add(d time.Duration, to Addr, session uint32) {
	sh := &t.shards[int(to.Handle())%len(t.shards)]
	due := int64(sh.sys.Now() + d)
	sh.mu.Lock()
	sh.seq++
	sh.h.push(timerEntry{due: due, seq: sh.seq, to: to, session: session})
	first := sh.h[0].seq == sh.seq
	sh.mu.Unlock()
	if first {
		select {
		case sh.kick <- struct{}{}:
		default:
		}
	}
}

// cancel drops the timer (to, session) if it is still queued. Cancelling
// one that already fired leaves a stale key, which the next compaction
// drops.
func (t *timers) cancel(to Addr, session uint32) {
	sh := &t.shards[int(to.Handle())%len(t.shards)]
	sh.mu.Lock()
	if sh.cancelled == nil {
		sh.cancelled = make(map[timerKey]struct{})
	}
	sh.cancelled[timerKey{to, session}] = struct{}{}
	if len(sh.cancelled) > minCompact && 2*len(sh.cancelled) > len(sh.h) {
		sh.compact()
	}
	sh.mu.Unlock()
}

// minCompact is the number of cancellations below which the heap is left
// as it is: a few dead entries cost less than a rebuild.
const minCompact = 64

// compact removes the cancelled entries from the heap and forgets the
// cancellations that matched nothing (timers that had already fired).
func (sh *timerShard) compact() {
	live := sh.h[:0]
	for _, e := range sh.h {
		if _, dead := sh.cancelled[timerKey{e.to, e.session}]; !dead {
			live = append(live, e)
		}
	}
	clear(sh.h[len(live):])
	sh.h = live
	if cap(sh.h) > 2*len(sh.h)+minCompact {
		sh.h = append(timerHeap(nil), sh.h...)
	}
	sh.h.init()
	clear(sh.cancelled)
}

func (sh *timerShard) loop() {
	defer close(sh.done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	for {
		now := int64(sh.sys.Now())
		// Take every due entry under one lock, post them outside it.
		sh.mu.Lock()
		for len(sh.h) > 0 && sh.h[0].due <= now {
			e := sh.h.pop()
			if len(sh.cancelled) > 0 {
				k := timerKey{e.to, e.session}
				if _, dead := sh.cancelled[k]; dead {
					delete(sh.cancelled, k)
					continue
				}
			}
			sh.due = append(sh.due, e)
		}
		next := int64(-1)
		if len(sh.h) > 0 {
			next = sh.h[0].due
		}
		sh.mu.Unlock()
		for _, e := range sh.due {
			m := NewMessage()
			m.Kind, m.Session = Timer, e.session
			if err := sh.sys.Post(e.to, m); err != nil {
				// A timer is never refused by a live service: this one is gone.
				sh.sys.log.Debug("timer of a gone service dropped", "addr", e.to.String(), "session", e.session)
			}
		}
		sh.due = sh.due[:0]
		wait := time.Hour
		if next >= 0 {
			wait = time.Duration(next - int64(sh.sys.Now()))
			if wait <= 0 {
				continue
			}
		}
		clock.Reset(wait)
		select {
		case <-clock.C:
		case <-sh.kick:
		case <-sh.stop:
			return
		}
	}
}

func (t *timers) close() {
	for i := range t.shards {
		close(t.shards[i].stop)
	}
	for i := range t.shards {
		<-t.shards[i].done
	}
}

// timerHeap is a binary min-heap by (due, seq), typed so that pushing and
// popping neither box nor allocate.
type timerHeap []timerEntry

func (h timerHeap) less(i, j int) bool {
	return h[i].due < h[j].due || h[i].due == h[j].due && h[i].seq < h[j].seq
}

func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *timerHeap) pop() timerEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	s.down(0)
	*h = s
	return top
}

// down moves entry i down to its place.
func (h timerHeap) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// init restores the heap order of any slice, in linear time.
func (h timerHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// PendingTimers is the number of entries in the timer queue, cancelled
// ones not yet dropped included: what the queue holds in memory.
func (s *System) PendingTimers() int {
	n := 0
	for i := range s.timers.shards {
		sh := &s.timers.shards[i]
		sh.mu.Lock()
		n += len(sh.h)
		sh.mu.Unlock()
	}
	return n
}
