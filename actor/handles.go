package actor

import (
	"sync"
	"sync/atomic"
)

// handleTable maps handles to live services. A post looks up its target
// here, so a lookup takes no lock and allocates nothing: three atomic
// loads down a radix tree of the handle's bits (8, 12 and 12). Handles
// are handed out in order and never reused, so the tree fills leaf by
// leaf; a leaf all of whose services have gone, once the handles have
// moved past it, is dropped.
type handleTable struct {
	top [1 << topBits]atomic.Pointer[handleMid]
	mu  sync.Mutex // put and remove: making and dropping levels
	n   atomic.Int64
	// The leaf the latest handles went to, and where it is: the leaves
	// before it get no new handles.
	cur        *handleLeaf
	curI, curJ uint32
}

const (
	topBits  = 8
	midBits  = 12
	leafBits = 12
)

type handleMid [1 << midBits]atomic.Pointer[handleLeaf]

type handleLeaf struct {
	slots [1 << leafBits]atomic.Pointer[proc]
	live  int // services in it (under handleTable.mu)
}

func split(h uint32) (top, mid, leaf uint32) {
	return h >> (midBits + leafBits), h >> leafBits & (1<<midBits - 1), h & (1<<leafBits - 1)
}

func (t *handleTable) init() {}

func (t *handleTable) get(a Addr) *proc {
	i, j, k := split(a.Handle())
	m := t.top[i].Load()
	if m == nil {
		return nil
	}
	l := m[j].Load()
	if l == nil {
		return nil
	}
	p := l.slots[k].Load()
	if p == nil || p.addr != a { // a's node is not this one
		return nil
	}
	return p
}

func (t *handleTable) put(p *proc) {
	i, j, k := split(p.addr.Handle())
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.top[i].Load()
	if m == nil {
		m = new(handleMid)
		t.top[i].Store(m)
	}
	l := m[j].Load()
	if l == nil {
		l = new(handleLeaf)
		m[j].Store(l)
	}
	if l != t.cur {
		if old := t.cur; old != nil && old.live == 0 {
			t.top[t.curI].Load()[t.curJ].Store(nil) // emptied before the handles moved on
		}
		t.cur, t.curI, t.curJ = l, i, j
	}
	if l.slots[k].Swap(p) == nil {
		l.live++
		t.n.Add(1)
	}
}

func (t *handleTable) remove(a Addr) {
	h := a.Handle()
	i, j, k := split(h)
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.top[i].Load()
	if m == nil {
		return
	}
	l := m[j].Load()
	if l == nil {
		return
	}
	if p := l.slots[k].Load(); p == nil || p.addr != a {
		return
	}
	l.slots[k].Store(nil)
	t.n.Add(-1)
	// An emptied leaf that new handles no longer go to is never used
	// again.
	if l.live--; l.live == 0 && l != t.cur {
		m[j].Store(nil)
	}
}

func (t *handleTable) count() int { return int(t.n.Load()) }
