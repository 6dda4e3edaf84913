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
	sys  *System
	mu   sync.Mutex
	h    timerHeap
	seq  uint64
	kick chan struct{} // an earlier deadline arrived
	stop chan struct{}
	done chan struct{}
	due  []timerEntry // reused batch of due entries, owned by loop
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

func (sh *timerShard) loop() {
	defer close(sh.done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	for {
		now := int64(sh.sys.Now())
		// Take every due entry under one lock, post them outside it.
		sh.mu.Lock()
		for len(sh.h) > 0 && sh.h[0].due <= now {
			sh.due = append(sh.due, sh.h.pop())
		}
		next := int64(-1)
		if len(sh.h) > 0 {
			next = sh.h[0].due
		}
		sh.mu.Unlock()
		for _, e := range sh.due {
			m := NewMessage()
			m.Kind, m.Session = Timer, e.session
			_ = sh.sys.Post(e.to, m) // the service may be gone: fine
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
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(s) && s.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(s) && s.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}
