// Package logger is the logger service: log records from every service
// are handed to it as messages and written on its own goroutine, so a
// service never waits on the log's I/O. The root starts it first and stops
// it last; once it is gone, records are written directly, so logging works
// until the very end.
//
// The queue is bounded (Handler.SetQueueLimit, DefaultQueueLimit records):
// past it records are dropped and counted, never blocking the service that
// logs. Records still queued when the logger is stopped before writing
// them are counted too. The count is reported as one last line through
// the wrapped handler, once the logger has written all it could:
//
//	level=ERROR msg="logger: 12345 records dropped" queue_full=12000 unwritten=345
package logger

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/ratelog"
)

// DefaultQueueLimit is how many records may wait for the logger service
// before new ones are dropped.
const DefaultQueueLimit = 65536

// Service writes the records it receives. Stop it with Handler.Exit, or a
// Send (or Call) of "exit". With Handler set, the Handler it serves, the
// exit is complete: new records are written directly from then on, every
// record queued or in flight is written first (or, past the deadline
// Handler.Exit set, dropped unwritten and counted), and the dropped ones
// are reported last. Without it, "exit" stops the service after the
// records queued before it. Any other request is failed with
// actor.ErrNoCommand.
//
// A record logged while the exiting logger still writes older ones is
// written directly, so it may come out before them.
type Service struct {
	Handler *Handler
}

// record is one log record and the handler (with its attributes) that
// writes it.
type record struct {
	h    slog.Handler
	r    slog.Record
	sink *sink
}

var _ actor.Service = Service{}

// drainPoll is how often an exiting logger checks that the records in
// flight (counted, but not yet in its mailbox) have arrived.
const drainPoll = 5 * time.Millisecond

// warnings rate-limits the logger's own warnings.
var warnings ratelog.Limiter

// Init does nothing.
func (Service) Init(*actor.Context) error { return nil }

// Receive writes a record, exits, or fails a request it does not know.
func (s Service) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Control:
		if rec, ok := m.Ctl.(*record); ok {
			sk := rec.sink
			if sk.late() {
				sk.unwritten.Add(1)
			} else {
				_ = rec.h.Handle(context.Background(), rec.r)
			}
			sk.queued.Add(-1)
			if sk.draining.Load() && sk.queued.Load() <= 0 {
				c.Exit()
			}
		} else if m.Session != 0 {
			c.Reply(m.From, m.Session)
		}
	case actor.Timer:
		s.drain(c)
	case actor.Call, actor.Send:
		if m.Cmd == "exit" {
			if m.Kind == actor.Call {
				c.Reply(m.From, m.Session)
			}
			s.exit(c)
			return
		}
		err := &actor.Error{Name: c.Name(), Addr: c.Self(), What: m.Kind.String() + ` "` + m.Cmd + `"`, Err: actor.ErrNoCommand}
		if m.Kind == actor.Call {
			c.Fail(m.From, m.Session, err)
		} else {
			warnings.Warn(c.Logger(), "send to unknown command dropped", m.Cmd, "cmd", m.Cmd, "from", m.From.String())
		}
	}
}

// exit stops taking records and stops once those queued or in flight are
// written, or dropped past the deadline.
func (s Service) exit(c *actor.Context) {
	if s.Handler == nil {
		c.Exit()
		return
	}
	sk := s.Handler.sink
	sk.addr.Store(0) // new records are written directly
	sk.draining.Store(true)
	s.drain(c)
}

// drain exits if no record is left to write; otherwise it checks again a
// little later, in case the last records counted never reach the mailbox
// (their Post failed, and they were written directly).
func (s Service) drain(c *actor.Context) {
	if s.Handler == nil || !s.Handler.sink.draining.Load() {
		return
	}
	if s.Handler.sink.queued.Load() <= 0 {
		c.Exit()
		return
	}
	c.After(drainPoll, c.NewSession())
}

// Stopped counts the records left unwritten (the logger was stopped hard,
// before its exit drained them) and reports what was dropped.
func (s Service) Stopped(*actor.Context) {
	if s.Handler == nil {
		return
	}
	sk := s.Handler.sink
	sk.addr.Store(0)
	if n := sk.queued.Swap(0); n > 0 {
		sk.unwritten.Add(uint64(n))
	}
	s.Handler.report()
}

// Handler is a slog.Handler that hands records to the logger service, or
// writes them itself while there is none.
type Handler struct {
	h    slog.Handler
	sink *sink
}

// sink is the state a Handler shares with those WithAttrs and WithGroup
// derive from it.
type sink struct {
	base      slog.Handler // the wrapped handler, without attributes
	sys       atomic.Pointer[actor.System]
	addr      atomic.Uint64 // the logger service, 0 when there is none
	limit     atomic.Int64  // queue bound; 0 means DefaultQueueLimit
	queued    atomic.Int64  // records handed to the logger, not yet written
	full      atomic.Uint64 // records dropped: the queue was full
	unwritten atomic.Uint64 // records dropped: the logger stopped first
	reported  atomic.Uint64 // the drop count last reported
	draining  atomic.Bool   // the logger is exiting
	stopBy    atomic.Int64  // Exit's deadline (Unix ns), 0 if none
}

// late reports whether Exit's deadline has passed.
func (sk *sink) late() bool {
	t := sk.stopBy.Load()
	return t != 0 && time.Now().UnixNano() > t
}

// NewHandler wraps h; records go straight to h until Attach.
func NewHandler(h slog.Handler) *Handler { return &Handler{h: h, sink: &sink{base: h}} }

// SetQueueLimit bounds the records waiting for the logger service; past
// it, new records are dropped and counted. n <= 0 means
// DefaultQueueLimit.
func (h *Handler) SetQueueLimit(n int) { h.sink.limit.Store(int64(n)) }

// Attach sends records to the logger service at a from now on. The
// service should be Service{Handler: h}.
func (h *Handler) Attach(sys *actor.System, a actor.Addr) {
	h.sink.sys.Store(sys)
	h.sink.draining.Store(false)
	h.sink.stopBy.Store(0)
	h.sink.addr.Store(uint64(a))
}

// Exit stops the attached logger service (Service{Handler: h}): records
// are written directly from now on, and the logger writes those queued or
// in flight, then reports the dropped ones and stops. Those it has not
// written by deadline (zero for none) are dropped and counted: with a
// slow output, the exit still ends near the deadline. Wait for the
// service to be gone, then Detach.
func (h *Handler) Exit(deadline time.Time) error {
	sk := h.sink
	if !deadline.IsZero() {
		sk.stopBy.Store(deadline.UnixNano())
	}
	a, sys := actor.Addr(sk.addr.Load()), sk.sys.Load()
	if a == actor.None || sys == nil {
		return nil
	}
	return sys.Send(a, "exit")
}

// Detach writes records directly again, and reports the records dropped
// so far (once: a later report comes only if more were dropped since).
// Call it once the logger service has stopped, or when it is given up on:
// records it still holds and never writes are counted when it stops, and
// reported then.
func (h *Handler) Detach() {
	h.sink.addr.Store(0)
	h.report()
}

// Dropped is the number of records dropped: because the queue was full,
// or because the logger service stopped before writing them.
func (h *Handler) Dropped() uint64 { return h.sink.full.Load() + h.sink.unwritten.Load() }

// Unwritten is the part of Dropped lost at the exit: records the logger
// had not written by Exit's deadline, or when it was stopped hard.
func (h *Handler) Unwritten() uint64 { return h.sink.unwritten.Load() }

// Queued is the number of records handed to the logger service and not
// yet written.
func (h *Handler) Queued() int { return int(h.sink.queued.Load()) }

// report writes, straight to the wrapped handler, one line with the
// number of records dropped, if it grew since the last report.
func (h *Handler) report() {
	sk := h.sink
	full, unwritten := sk.full.Load(), sk.unwritten.Load()
	n := full + unwritten
	for {
		old := sk.reported.Load()
		if n <= old {
			return
		}
		if sk.reported.CompareAndSwap(old, n) {
			break
		}
	}
	r := slog.NewRecord(time.Now(), slog.LevelError, fmt.Sprintf("logger: %d records dropped", n), 0)
	r.AddAttrs(slog.Uint64("queue_full", full), slog.Uint64("unwritten", unwritten))
	_ = sk.base.Handle(context.Background(), r)
}

// Enabled reports whether the wrapped handler wants the level.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

// Handle queues r for the logger service, or writes it if there is none
// (or it is gone). A record that finds the queue full is dropped and
// counted.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	sk := h.sink
	if a := actor.Addr(sk.addr.Load()); a != actor.None {
		limit := sk.limit.Load()
		if limit <= 0 {
			limit = DefaultQueueLimit
		}
		if sk.queued.Add(1) > limit {
			sk.queued.Add(-1)
			sk.full.Add(1)
			return nil
		}
		m := actor.NewMessage()
		m.Kind, m.Ctl = actor.Control, &record{h: h.h, r: r.Clone(), sink: sk}
		if sk.sys.Load().Post(a, m) == nil {
			return nil
		}
		sk.queued.Add(-1)
	}
	return h.h.Handle(ctx, r)
}

// WithAttrs returns a handler adding attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{h: h.h.WithAttrs(attrs), sink: h.sink}
}

// WithGroup returns a handler opening a group.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{h: h.h.WithGroup(name), sink: h.sink}
}
