package names

import (
	"fmt"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
)

// launch is one start of a service by name. Every lookup that arrives
// while it runs waits on it: all get the same address, or the same error.
// A failed launch is forgotten, so the next lookup tries again.
type launch struct {
	addr   actor.Addr
	queued []*actor.Message // messages sent to the name meanwhile, in order
	acks   []actor.Addr     // their senders that asked for an Acked
}

// resolve answers p with the address of name, starting its declared
// service if it is not running.
func (s *Service) resolve(c *actor.Context, name string, p pending) error {
	if a, ok := s.table.Lookup(name); ok {
		reply(c, p, a)
		return nil
	}
	d, ok := s.declared[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoName, name)
	}
	return s.unique(c, name, d, p)
}

// unique answers p with the service registered under name, starting d
// under that name first if there is none. p waits for the start (wait.go).
func (s *Service) unique(c *actor.Context, name string, d Decl, p pending) error {
	if a, ok := s.table.Lookup(name); ok {
		reply(c, p, a)
		return nil
	}
	if _, err := s.launch(c, name, d); err != nil {
		return err
	}
	s.wait(c, name, p, true)
	return nil
}

// forward delivers m, addressed to name: now if the name is registered,
// after its declared service has started otherwise. Once m has left, ack
// (a sender, or None) gets an Acked.
func (s *Service) forward(c *actor.Context, name string, m *actor.Message, ack actor.Addr) {
	m.Ctl = nil
	if strings.ContainsRune(name, '@') {
		if err := s.remoteResolve(c, name, pending{}, m); err != nil {
			s.refuse(c, name, m, err)
		}
		s.ack(c, ack, name)
		return
	}
	if a, ok := s.table.Lookup(name); ok {
		c.Forward(a, m)
		c.Keep()
		s.ack(c, ack, name)
		return
	}
	d, ok := s.declared[name]
	if !ok {
		s.refuse(c, name, m, fmt.Errorf("%w: %q", ErrNoName, name))
		s.ack(c, ack, name)
		return
	}
	l, err := s.launch(c, name, d)
	if err != nil {
		s.refuse(c, name, m, err)
		s.ack(c, ack, name)
		return
	}
	c.Keep()
	l.queued = append(l.queued, m)
	if ack != actor.None {
		l.acks = append(l.acks, ack)
	}
}

// ack tells sender (if not None) that a message of its to name has left
// the name service.
func (s *Service) ack(c *actor.Context, sender actor.Addr, name string) {
	if sender == actor.None {
		return
	}
	m := actor.NewMessage()
	m.Kind, m.Ctl = actor.Control, Acked{Name: name}
	_ = c.Post(sender, m) // a sender gone needs no ack
}

// refuse fails a Call to name with err; a Send is dropped with a warning,
// one per second and name at most, counting the others (repeated=N).
func (s *Service) refuse(c *actor.Context, name string, m *actor.Message, err error) {
	if m.Kind == actor.Call {
		c.Fail(m.From, m.Session, err)
	} else {
		s.warn.Warn(c.Logger(), "send to unknown name dropped", name, "name", name, "cmd", m.Cmd, "from", m.From.String(), "err", err)
	}
}

// SetMaxMessage caps the packed size of a declared service's arguments
// at max bytes (the runtime's max_message); 0, the default, is
// pack.MaxSize. Call it before the service is spawned.
func (s *Service) SetMaxMessage(max int) { s.maxMsg = max }

// launch returns the launch under way for name, or starts one.
func (s *Service) launch(c *actor.Context, name string, d Decl) (*launch, error) {
	if l := s.launches[name]; l != nil {
		return l, nil
	}
	args, err := pack.AppendValuesLimit(nil, s.maxMsg, d.Args...)
	if err != nil {
		return nil, fmt.Errorf("names: start %q: %w", name, err)
	}
	session := c.NewSession()
	a, err := s.start(d.Script, args, d.Limits, c.Self(), session)
	if err != nil {
		return nil, fmt.Errorf("names: start %q: %w", name, err)
	}
	l := &launch{addr: a}
	s.launches[name] = l
	s.bySess[session] = name
	s.scripts[a] = d.Script
	c.Logger().Info("starting", "name", name, "script", d.Script, "at", a.String())
	return l, nil
}

// started ends a launch when its service's init reports.
func (s *Service) started(c *actor.Context, m *actor.Message) {
	name, ok := s.bySess[m.Session]
	if !ok {
		return
	}
	delete(s.bySess, m.Session)
	l := s.launches[name]
	delete(s.launches, name)
	if m.Kind == actor.Fail {
		err := fmt.Errorf("names: start %q: %w", name, m.Err)
		s.failLaunch(c, name, err)
		for _, q := range l.queued {
			s.refuse(c, name, q, err)
			q.Release()
		}
		for _, a := range l.acks {
			s.ack(c, a, name)
		}
		return
	}
	// Deliver what was sent to the name before publishing it, so that a
	// sender's later messages, which find the name in the table, cannot
	// overtake its earlier ones.
	for _, q := range l.queued {
		c.Forward(l.addr, q)
	}
	for _, a := range l.acks {
		s.ack(c, a, name)
	}
	if err := s.register(c, name, l.addr); err != nil { // answers the waits
		c.Logger().Error("register after start", "name", name, "err", err)
		s.answer(c, name, launchWait, l.addr)
	}
}
