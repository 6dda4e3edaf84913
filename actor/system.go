package actor

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
)

// Options configure a System.
type Options struct {
	// Node is this node's number in addresses; 0 for a standalone node.
	Node uint16
	// Logger receives every service's log lines. Nil discards them.
	Logger *slog.Logger
	// MailboxLimit is the queue length at which posts fail with
	// ErrOverload. 0 means 1<<20.
	MailboxLimit int
}

// System is a set of services on one node: the handle table, the timer
// queue and the protoactor-go actor system they run on. It is the only
// tern type that knows protoactor-go exists.
type System struct {
	as      *pa.ActorSystem
	node    uint16
	log     *slog.Logger
	limit   int
	start   time.Time
	handles handleTable
	next    atomic.Uint32 // last handle given out; handles are never reused
	timers  *timers

	// Calls from Go code outside any service wait here for their answer.
	outside  sync.Map // session(uint32) -> chan *Message
	sessions atomic.Uint32

	closing   atomic.Bool
	live      sync.WaitGroup // one per running service
	exitHooks exitHooks
}

// NewSystem starts an empty system.
func NewSystem(o Options) *System {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &System{
		as: pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger {
			return quiet // protoactor's own chatter; tern logs what matters
		})),
		node:  o.Node,
		log:   log,
		limit: o.MailboxLimit,
		start: time.Now(),
	}
	if s.limit <= 0 {
		s.limit = 1 << 20
	}
	s.handles.init()
	s.timers = newTimers(s)
	return s
}

// Logger is the system's logger.
func (s *System) Logger() *slog.Logger { return s.log }

// Now is the time since the system started.
func (s *System) Now() time.Duration { return time.Since(s.start) }

// Node is this node's number.
func (s *System) Node() uint16 { return s.node }

// Post delivers m to the service at to, or fails at once: it never blocks
// and never drops silently. Post owns m from the call on, success or not.
func (s *System) Post(to Addr, m *Message) error {
	if to == None {
		return s.postOutside(m)
	}
	p := s.handles.get(to)
	if p == nil {
		m.Release()
		return &Error{Addr: to, Err: ErrNoService}
	}
	if err := p.mb.post(m); err != nil {
		m.Release()
		return &Error{Name: p.name, Addr: to, Err: err}
	}
	return nil
}

// Send posts a one-way request with Go values as arguments.
func (s *System) Send(to Addr, cmd string, args ...any) error {
	return s.send(None, to, Send, 0, cmd, args)
}

func (s *System) send(from, to Addr, kind Kind, session uint32, cmd string, args []any) error {
	m, err := newMessage(kind, session, cmd, args)
	if err != nil {
		return err
	}
	m.From = from
	return s.Post(to, m)
}

// newMessage builds a message with Go values packed as its Data.
func newMessage(kind Kind, session uint32, cmd string, args []any) (*Message, error) {
	m := NewMessage()
	data, err := appendArgs(m.Data[:0], args)
	if err != nil {
		m.Release()
		return nil, err
	}
	m.Kind, m.Session, m.Cmd, m.Data = kind, session, cmd, data
	return m, nil
}

// Lookup reports the name of the live service at a.
func (s *System) Lookup(a Addr) (name string, ok bool) {
	if p := s.handles.get(a); p != nil {
		return p.name, true
	}
	return "", false
}

// Count is the number of live services.
func (s *System) Count() int { return s.handles.count() }

// Kill stops the service at a from outside. Its queued and in-flight
// requests are answered with ErrExited.
func (s *System) Kill(a Addr) error {
	p := s.handles.get(a)
	if p == nil {
		return &Error{Addr: a, Err: ErrNoService}
	}
	p.stop()
	return nil
}

// Close stops every service, waits up to the deadline in ctx for them to
// finish, and stops the timer queue. Services still running at the
// deadline are left behind and ctx's error is returned.
func (s *System) Close(ctx context.Context) error {
	s.closing.Store(true)
	for _, p := range s.handles.all() {
		p.stop()
	}
	done := make(chan struct{})
	go func() { s.live.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.timers.close()
	s.as.Shutdown()
	return err
}

// handleTable maps handles to live services. Sharded read-write locks
// keep lookups cheap and allocation-free (a sync.Map would box the key).
type handleTable struct {
	shards [64]struct {
		sync.RWMutex
		m map[Addr]*proc
	}
}

func (t *handleTable) init() {
	for i := range t.shards {
		t.shards[i].m = make(map[Addr]*proc)
	}
}

func (t *handleTable) get(a Addr) *proc {
	sh := &t.shards[a&63]
	sh.RLock()
	p := sh.m[a]
	sh.RUnlock()
	return p
}

func (t *handleTable) put(p *proc) {
	sh := &t.shards[p.addr&63]
	sh.Lock()
	sh.m[p.addr] = p
	sh.Unlock()
}

func (t *handleTable) remove(a Addr) {
	sh := &t.shards[a&63]
	sh.Lock()
	delete(sh.m, a)
	sh.Unlock()
}

func (t *handleTable) count() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.RLock()
		n += len(sh.m)
		sh.RUnlock()
	}
	return n
}

func (t *handleTable) all() []*proc {
	var ps []*proc
	for i := range t.shards {
		sh := &t.shards[i]
		sh.RLock()
		for _, p := range sh.m {
			ps = append(ps, p)
		}
		sh.RUnlock()
	}
	return ps
}
