package actor

import (
	"runtime"
	"sync"
	"sync/atomic"

	pa "github.com/asynkron/protoactor-go/actor"
)

// mailbox is a service's queue. It implements protoactor-go's Mailbox, so
// the service is an ordinary protoactor actor, but it adds what tern needs
// and protoactor's mailboxes lack:
//   - post reports failure: a closed mailbox refuses at once (the caller
//     gets ErrNoService instead of a silent drop), a full one refuses new
//     requests (Call, Send) with ErrOverload. Answers (Reply, Fail), timer
//     firings and control messages are always queued, past the limit: a
//     coroutine waiting for one of them would otherwise wait forever;
//   - close hands back what was still queued, so each queued Call can be
//     answered with an error instead of being dropped;
//   - warnings at doubling queue lengths, like skynet's overload warning;
//   - no allocation per message: a growable ring under one mutex.
//
// System messages (protoactor's Started, Stop, ...) run before user ones
// and go through protoactor's actor context, which runs the lifecycle;
// tern's own *Message goes straight to the service.
type mailbox struct {
	mu     sync.Mutex
	user   ring
	sys    ring
	closed bool   // under mu: post refuses
	in     uint64 // under mu: tern messages taken (Info.Handled)
	peak   int    // under mu: the user queue's high-water mark (Info.Peak)

	status  atomic.Int32 // idle or running: only one run at a time
	pending atomic.Int32 // user+sys messages queued, read without mu
	dead    atomic.Bool  // finished: never schedule again
	// t0 is the tick clock's time when the running turn began, or when
	// it was last published (proc.publish). Only the turn's goroutine
	// touches it.
	t0 int64

	invoker pa.MessageInvoker
	deliver func(*Message) // the service's handler for tern messages
	owner   *proc

	// The service runs on the pool, or on a goroutine of its own
	// (dedicated), which runs the bound m.process.
	pool      *pool
	dedicated *parked
	run       func()
	// w is the worker running a turn of this mailbox now: the services
	// this one makes ready go to w's runnext slot. Only that worker
	// touches it.
	w *worker

	// watch is what the pool monitor knows of the running handler (pool.go).
	watch handlerWatch

	limit  int       // post fails with ErrOverload at this length
	warnAt int       // next length worth a warning
	warn   func(int) // called, outside mu, when the queue reaches warnAt
}

const (
	idle int32 = iota
	running
)

const firstWarning = 1024

var _ pa.Mailbox = (*mailbox)(nil)

func (m *mailbox) init(limit int, warn func(int)) {
	m.limit = limit
	m.warnAt = firstWarning
	m.warn = warn
}

// post queues a user message. It never blocks on the receiver. Only a
// request (capped) meets the limit. from is the worker of the posting
// service, nil for any other goroutine.
func (m *mailbox) post(msg any, capped bool, from *worker) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrNoService
	}
	n := m.user.len()
	if capped && m.limit > 0 && n >= m.limit {
		m.mu.Unlock()
		return ErrOverload
	}
	m.user.push(msg)
	if n >= m.peak {
		m.peak = n + 1
	}
	warn := 0
	if n+1 >= m.warnAt {
		warn = n + 1
		m.warnAt *= 2
	}
	m.mu.Unlock()
	m.pending.Add(1)
	if warn > 0 && m.warn != nil {
		m.warn(warn)
	}
	m.schedule(from)
	return nil
}

// PostUserMessage is protoactor's way in; tern code uses post.
// Nothing but tern's own messages goes this way, so the error of a closed
// mailbox has nobody to report to.
func (m *mailbox) PostUserMessage(msg any) { _ = m.post(msg, false, nil) }

// PostSystemMessage queues a protoactor system message. After close,
// only the ones protoactor needs to finish stopping still get through.
func (m *mailbox) PostSystemMessage(msg any) {
	m.mu.Lock()
	m.sys.push(msg)
	m.mu.Unlock()
	m.pending.Add(1)
	m.schedule(nil)
}

// RegisterHandlers takes protoactor's invoker; the dispatcher is tern's
// own (the pool or a dedicated goroutine), chosen at spawn.
func (m *mailbox) RegisterHandlers(invoker pa.MessageInvoker, _ pa.Dispatcher) {
	m.invoker = invoker
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user.len()
}

// counts returns the messages queued, the queue's high-water mark, and
// the messages taken so far.
func (m *mailbox) counts() (queued, peak int, in uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user.len(), m.peak, m.in
}

// publish publishes the owner's statistics (proc.publish); a mailbox
// without an owner (in tests) has none.
func (m *mailbox) publish() {
	if m.owner != nil {
		m.owner.publish()
	}
}

func (m *mailbox) schedule(from *worker) {
	if !m.dead.Load() && m.status.CompareAndSwap(idle, running) {
		if m.pool != nil {
			m.pool.ready(m, from)
		} else {
			m.dedicated.Schedule(m.run)
		}
	}
}

// close refuses further posts and returns the user messages still queued.
func (m *mailbox) close() []any {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var rest []any
	for m.user.len() > 0 {
		rest = append(rest, m.user.pop())
		m.pending.Add(-1)
	}
	return rest
}

// throughput is how many messages one turn handles before the service
// lets others run.
const throughput = 300

// turn runs on worker w: it handles up to throughput messages, system
// messages first. It reports whether the service has more and stays
// scheduled (the worker queues it again); otherwise it went idle.
func (m *mailbox) turn(w *worker) bool {
	m.w = w
	m.t0 = clock.read()
	for range throughput {
		if m.dead.Load() {
			m.w = nil
			m.publish()
			return false // stays "running" forever: nothing schedules again
		}
		if !m.next() {
			// m.w is cleared, and the statistics published, before going
			// idle: from then on another worker may run this mailbox.
			m.w = nil
			m.publish()
			m.status.Store(idle)
			if m.pending.Load() == 0 || !m.status.CompareAndSwap(idle, running) {
				return false
			}
			m.w = w
			m.t0 = clock.read()
			continue
		}
	}
	m.w = nil
	m.publish()
	return !m.dead.Load()
}

// process runs a dedicated service's mailbox on its own goroutine: it
// drains the queue, then goes idle unless more arrived meanwhile.
func (m *mailbox) process() {
	for {
		m.t0 = clock.read()
		for i := 0; ; i++ {
			if m.dead.Load() {
				m.publish()
				return // stays "running" forever: nothing schedules again
			}
			if i == throughput {
				i = 0
				m.publish()
				runtime.Gosched()
				m.t0 = clock.read()
			}
			if !m.next() {
				break
			}
		}
		m.publish()
		m.status.Store(idle)
		if m.pending.Load() == 0 || !m.status.CompareAndSwap(idle, running) {
			return
		}
	}
}

// next handles the next message, a system one first. It reports false
// when the queue is empty.
func (m *mailbox) next() bool {
	if m.pending.Load() == 0 {
		// Nothing queued, or a post not yet counted: its poster schedules
		// the mailbox again once this turn has gone idle.
		return false
	}
	m.mu.Lock()
	var msg any
	sys := m.sys.len() > 0
	if sys {
		msg = m.sys.pop()
	} else if m.user.len() > 0 {
		msg = m.user.pop()
		m.in++
	}
	if m.user.len() == 0 {
		m.warnAt = firstWarning
		m.user.shrink()
	}
	m.watch.seq++ // a new handler run (pool.go)
	m.mu.Unlock()
	if msg == nil {
		return false
	}
	m.pending.Add(-1)
	m.watch.begin(msg)
	if um, ok := msg.(*Message); ok && !sys && m.deliver != nil {
		// tern's own messages skip protoactor's per-message layers
		// (metrics check, middleware and envelope switches); protoactor
		// still runs the lifecycle.
		m.deliver(um)
		return true
	}
	if sys {
		m.invoker.InvokeSystemMessage(msg)
	} else {
		m.invoker.InvokeUserMessage(msg)
	}
	return true
}

// ring is a growable FIFO of messages that reuses its storage.
type ring struct {
	buf  []any
	head int
	n    int
}

func (r *ring) len() int { return r.n }

func (r *ring) push(v any) {
	if r.n == len(r.buf) {
		size := 2 * len(r.buf)
		if size == 0 {
			size = 16
		}
		buf := make([]any, size)
		k := copy(buf, r.buf[r.head:])
		copy(buf[k:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

// keepRing is the largest ring kept once drained: a burst's storage is
// given back, an ordinary queue's is reused.
const keepRing = 1024

// shrink drops the storage of an empty ring grown past keepRing.
func (r *ring) shrink() {
	if r.n == 0 && len(r.buf) > keepRing {
		r.buf, r.head = nil, 0
	}
}

func (r *ring) pop() any {
	v := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}
