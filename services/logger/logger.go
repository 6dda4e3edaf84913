// Package logger is the logger service: log records from every service
// are handed to it as messages and written on its own goroutine, so a
// service never waits on the log's I/O. The root starts it first and stops
// it last; once it is gone, records are written directly, so logging works
// until the very end.
package logger

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/tern-dev/tern/actor"
)

// Service writes the records it receives. Stop it with a Send of "exit":
// it writes everything queued before it first.
type Service struct{}

// record is one log record and the handler (with its attributes) that
// writes it.
type record struct {
	h slog.Handler
	r slog.Record
}

var _ actor.Service = Service{}

// Init does nothing.
func (Service) Init(*actor.Context) error { return nil }

// Receive writes a record, or exits after what was queued before.
func (Service) Receive(c *actor.Context, m *actor.Message) {
	switch {
	case m.Kind == actor.Control:
		if rec, ok := m.Ctl.(*record); ok {
			_ = rec.h.Handle(context.Background(), rec.r)
		} else if m.Session != 0 {
			c.Reply(m.From, m.Session)
		}
	case m.Kind == actor.Send && m.Cmd == "exit":
		c.Exit()
	}
}

// Stopped does nothing.
func (Service) Stopped(*actor.Context) {}

// Handler is a slog.Handler that hands records to the logger service, or
// writes them itself while there is none.
type Handler struct {
	h    slog.Handler
	sink *sink
}

type sink struct {
	sys  atomic.Pointer[actor.System]
	addr atomic.Uint64 // the logger service, 0 when there is none
}

// NewHandler wraps h; records go straight to h until Attach.
func NewHandler(h slog.Handler) *Handler { return &Handler{h: h, sink: &sink{}} }

// Attach sends records to the logger service at a from now on.
func (h *Handler) Attach(sys *actor.System, a actor.Addr) {
	h.sink.sys.Store(sys)
	h.sink.addr.Store(uint64(a))
}

// Detach writes records directly again.
func (h *Handler) Detach() { h.sink.addr.Store(0) }

// Enabled reports whether the wrapped handler wants the level.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

// Handle queues r for the logger service, or writes it if there is none
// (or it is gone).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if a := actor.Addr(h.sink.addr.Load()); a != actor.None {
		m := actor.NewMessage()
		m.Kind, m.Ctl = actor.Control, &record{h: h.h, r: r.Clone()}
		if h.sink.sys.Load().Post(a, m) == nil {
			return nil
		}
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
