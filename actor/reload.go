package actor

import (
	"context"
	"errors"
)

// Reload is the control message that asks a service to reload in place:
// a new instance of it behind the same address, mailbox and names. Post
// it as a Control with a session (Context.CallControl, System.Reload);
// the answer is a Reply once the new instance serves, or a Fail with why
// the old one still does.
type Reload struct{}

// Reloader is a service that can reload in place (a Lua service). Reload
// runs on the service's goroutine; the service calls done once, when the
// new instance serves (Context.Replace) or with the error that kept the
// old one.
type Reloader interface {
	Reload(c *Context, done func(error))
}

// ErrNoReload: the service cannot reload (a Go service).
var ErrNoReload = errors.New("cannot reload: not a Lua service")

// reload serves a Reload request.
func (p *proc) reload(m *Message) {
	from, session := m.From, m.Session
	fail := func(err error) {
		if session != 0 {
			p.ctx.Fail(from, session, &Error{Name: p.name, Addr: p.addr, What: "reload", Err: err})
		} else {
			p.logger().Error("reload failed", "err", err)
		}
	}
	r, ok := p.svc.(Reloader)
	switch {
	case !ok:
		fail(ErrNoReload)
	case State(p.state.Load()) == Starting:
		fail(errors.New("still starting: its init has not finished"))
	case State(p.state.Load()) != Running:
		fail(ErrShuttingDown)
	default:
		p.logger().Info("reloading")
		r.Reload(&p.ctx, func(err error) {
			if err != nil {
				p.logger().Error("reload failed; the old instance serves on", "err", err)
				fail(err)
				return
			}
			p.logger().Info("reloaded")
			if session != 0 {
				p.ctx.reply(from, session, nil)
			}
		})
	}
}

// Replace makes svc the service behind this address from the next message
// on: the new instance of a reload. It runs on the service's goroutine.
func (c *Context) Replace(svc Service) {
	c.p.svc = svc
	c.p.reloads.Add(1) // Info.Reloads
}

// Reload reloads the service at a in place and waits until the new
// instance serves, or returns why the old one still does.
func (s *System) Reload(ctx context.Context, a Addr) error {
	_, err := s.CallControl(ctx, a, "reload", &Reload{})
	return err
}

// CallControl sends the control message ctl to the service at a from Go
// code outside any service, and waits for the answer, as Call does; what
// names the request in errors.
func (s *System) CallControl(ctx context.Context, a Addr, what string, ctl any) ([]any, error) {
	session, ch := s.await()
	defer s.outside.Delete(session)
	m := NewMessage()
	m.Kind, m.Session, m.Ctl = Control, session, ctl
	if err := s.Post(a, m); err != nil {
		return nil, err
	}
	reply, err := s.wait(ctx, a, what, ch)
	if err != nil {
		return nil, err
	}
	defer reply.Release()
	return decodeArgs(reply.Data)
}
