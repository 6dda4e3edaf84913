package actor

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/ratelog"
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
	// Workers is the number of workers that run services; 0 means
	// GOMAXPROCS.
	Workers int
	// MaxMessage caps the packed size of the Go values a message carries
	// (Send, Call, Reply); 0 means pack.MaxSize.
	MaxMessage int
}

// System is a set of services on one node: the handle table, the timer
// queue and the protoactor-go actor system they run on. It is the only
// tern type that knows protoactor-go exists.
type System struct {
	as         *pa.ActorSystem
	node       uint16
	log        *slog.Logger
	limit      int
	maxMessage int
	start      time.Time
	handles    handleTable
	next       atomic.Uint32 // last handle given out; handles are never reused
	timers     *timers
	pool       *pool

	// Calls from Go code outside any service wait here for their answer.
	outside  sync.Map // session(uint32) -> chan *Message
	sessions atomic.Uint32

	// spawnMu orders Spawn against Close: a spawn that saw closing unset
	// has its service in procs before Close takes its snapshot.
	spawnMu   sync.RWMutex
	closing   atomic.Bool
	procs     procSet // every service from Spawn until it has finished
	allDone   chan struct{}
	doneOnce  sync.Once
	exitHooks exitHooks
	warnings  ratelog.Limiter // repeated warnings, such as sends to an unknown command
	cluster   clusterHolder   // the cluster this node is in, if any (cluster.go)
}

// procSet holds every service from its spawn until it has finished, the
// stopping ones included: what Close waits for and Services lists.
type procSet struct {
	mu sync.Mutex
	m  map[Addr]*proc
}

func (ps *procSet) add(p *proc) {
	ps.mu.Lock()
	ps.m[p.addr] = p
	ps.mu.Unlock()
}

// remove reports how many services are left.
func (ps *procSet) remove(a Addr) int {
	ps.mu.Lock()
	delete(ps.m, a)
	n := len(ps.m)
	ps.mu.Unlock()
	return n
}

func (ps *procSet) len() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.m)
}

func (ps *procSet) get(a Addr) *proc {
	ps.mu.Lock()
	p := ps.m[a]
	ps.mu.Unlock()
	return p
}

func (ps *procSet) all() []*proc {
	ps.mu.Lock()
	out := make([]*proc, 0, len(ps.m))
	for _, p := range ps.m {
		out = append(out, p)
	}
	ps.mu.Unlock()
	return out
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
		node:    o.Node,
		log:     log,
		limit:   o.MailboxLimit,
		start:   time.Now(),
		allDone: make(chan struct{}),
	}
	s.procs.m = make(map[Addr]*proc)
	if s.limit <= 0 {
		s.limit = 1 << 20
	}
	s.maxMessage = o.MaxMessage
	if s.maxMessage <= 0 {
		s.maxMessage = pack.MaxSize
	}
	s.handles.init()
	s.timers = newTimers(s)
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s.pool = newPool(s, workers)
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
// Only requests (Call, Send) can fail for a full mailbox; answers, timers
// and control messages are always queued to a live service.
func (s *System) Post(to Addr, m *Message) error {
	return s.post(nil, to, m)
}

// post is Post from the service running on worker from (nil for any
// other goroutine): the receiver runs next on that worker.
// An address on another node goes to the remote path; handle 0 is Go
// code outside any service (None here, or this node's handle 0 for an
// answer from another node).
func (s *System) post(from *worker, to Addr, m *Message) error {
	if n := to.Node(); n != s.node && n != 0 {
		return s.postRemote(to, m)
	}
	if to.Handle() == 0 {
		return s.postOutside(m)
	}
	p := s.handles.get(to)
	if p == nil {
		m.Release()
		return &Error{Addr: to, Err: ErrNoService}
	}
	if err := p.mb.post(m, m.Kind == Call || m.Kind == Send, from); err != nil {
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
	m, err := s.newMessage(kind, session, cmd, args)
	if err != nil {
		return err
	}
	m.From = from
	return s.Post(to, m)
}

// newMessage builds a message with Go values packed as its Data, at most
// Options.MaxMessage bytes of them.
func (s *System) newMessage(kind Kind, session uint32, cmd string, args []any) (*Message, error) {
	m := NewMessage()
	data, err := pack.AppendValuesLimit(m.Data[:0], s.maxMessage, args...)
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
// deadline (a handler that never returns) are left behind, and an error
// naming them is returned. Spawn fails from the start of Close on.
func (s *System) Close(ctx context.Context) error {
	s.spawnMu.Lock()
	s.closing.Store(true)
	s.spawnMu.Unlock()
	for _, p := range s.procs.all() {
		p.stop()
	}
	if s.procs.len() == 0 {
		s.doneOnce.Do(func() { close(s.allDone) })
	}
	var err error
	select {
	case <-s.allDone:
	case <-ctx.Done():
		err = fmt.Errorf("actor: close: %w; still running: %s", ctx.Err(), describe(s.procs.all()))
	}
	if lerr := s.LeaveCluster(ctx); lerr != nil && err == nil {
		err = lerr // still in a cluster: the root leaves before, as a rule
	}
	s.timers.close()
	s.pool.close()
	s.warnings.Flush()
	s.as.Shutdown()
	return err
}

// describe names services for a log line or an error: name(:addr), ...,
// the first ten of them.
func describe(ps []*proc) string {
	slices.SortFunc(ps, func(a, b *proc) int { return cmp.Compare(a.addr, b.addr) })
	var b strings.Builder
	for i, p := range ps {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(ps)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.name)
		b.WriteByte('(')
		b.WriteString(p.addr.String())
		b.WriteByte(')')
	}
	return b.String()
}
