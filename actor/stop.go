package actor

import (
	"context"

	pb "github.com/tern-dev/tern/proto"
)

// Stop stops the service at a cleanly, as the shutdown protocol does for
// one service: it gets Shutdown (its on_shutdown runs, new requests are
// refused unless it is a Drainer that takes them, the ones in flight
// finish), then it is stopped. Past ctx's
// end it is stopped hard, and ctx's error returned. Stop returns once the
// service has finished.
func (s *System) Stop(ctx context.Context, a Addr) error {
	p := s.handles.get(a)
	if p == nil {
		return &Error{Addr: a, What: "stop", Err: ErrNoService}
	}
	session, ch := s.await()
	defer s.outside.Delete(session)
	m := NewMessage()
	sd := &pb.Shutdown{Reason: "stopped"}
	if d, ok := ctx.Deadline(); ok {
		sd.DeadlineUnixMs = d.UnixMilli()
	}
	m.Kind, m.Session, m.Ctl = Control, session, sd
	var err error
	if err = s.Post(a, m); err == nil {
		var reply *Message
		if reply, err = s.wait(ctx, a, "stop", ch); reply != nil {
			reply.Release()
		}
	}
	p.stop()
	select {
	case <-p.done:
	case <-ctx.Done():
		if err == nil {
			err = &Error{Name: p.name, Addr: a, What: "stop", Err: ctx.Err()}
		}
	}
	return err
}
