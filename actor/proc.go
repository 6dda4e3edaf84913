package actor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
)

// proc is one live service: a protoactor actor with our mailbox and
// dispatcher, the Service it hosts, and its reused Context.
type proc struct {
	sys     *System
	addr    Addr
	name    string
	svc     Service
	pid     *pa.PID
	mb      mailbox
	disp    *parked
	ctx     Context
	log     *slog.Logger
	started time.Time

	readyTo      Addr
	readySession uint32
	readyPending bool // Init deferred its readiness

	stopping atomic.Bool // Stop was requested
	done     chan struct{}
}

var _ pa.Actor = (*proc)(nil)

// Spawn starts svc as a new service and returns its address at once; Init
// runs on the service's goroutine right after.
func (s *System) Spawn(svc Service, o SpawnOptions) (Addr, error) {
	if s.closing.Load() {
		return None, fmt.Errorf("actor: spawn %s: %w", o.Name, ErrShuttingDown)
	}
	h := s.next.Add(1)
	if h == 0 {
		return None, fmt.Errorf("actor: spawn %s: handle space exhausted", o.Name)
	}
	p := &proc{
		sys:          s,
		addr:         MakeAddr(s.node, h),
		name:         o.Name,
		svc:          svc,
		started:      time.Now(),
		readyTo:      o.ReadyTo,
		readySession: o.ReadySession,
		done:         make(chan struct{}),
	}
	p.log = s.log.With("service", p.name, "addr", p.addr.String())
	p.ctx.p = p
	p.mb.init(s.limit, func(n int) {
		p.log.Warn("may overload", "queue", n)
	})
	p.disp = newParked()
	// The PID is made before the spawn: Init may run (and stop the
	// service) before SpawnNamed returns.
	p.pid = s.as.NewLocalPID(p.pidName())
	props := pa.PropsFromProducer(func() pa.Actor { return p },
		pa.WithMailbox(func() pa.Mailbox { return &p.mb }),
		pa.WithDispatcher(p.disp))
	s.live.Add(1)
	s.handles.put(p)
	if _, err := s.as.Root.SpawnNamed(props, p.pidName()); err != nil {
		s.handles.remove(p.addr)
		p.disp.stop()
		s.live.Done()
		return None, fmt.Errorf("actor: spawn %s: %w", o.Name, err)
	}
	return p.addr, nil
}

// pidName is the service's protoactor actor id.
func (p *proc) pidName() string { return "tern" + p.addr.String() }

// Launch spawns svc and waits until its Init has succeeded or failed.
func (s *System) Launch(ctx context.Context, svc Service, o SpawnOptions) (Addr, error) {
	session, ch := s.await()
	defer s.outside.Delete(session)
	o.ReadyTo, o.ReadySession = None, session
	a, err := s.Spawn(svc, o)
	if err != nil {
		return None, err
	}
	_, err = s.wait(ctx, a, "start", ch)
	return a, err
}

// Receive is protoactor's entry point: our messages, and the lifecycle.
func (p *proc) Receive(c pa.Context) {
	switch m := c.Message().(type) {
	case *Message:
		p.deliver(m)
	case *pa.Started:
		p.init()
	case *pa.Stopping:
		p.closeMailbox()
	case *pa.Stopped:
		p.finish()
	}
}

func (p *proc) deliver(m *Message) {
	defer p.recoverFrom(m)
	if m.Kind == Reply || m.Kind == Fail {
		if k := p.ctx.calls[m.Session]; k != nil {
			delete(p.ctx.calls, m.Session)
			k.done(m)
			m.Release()
			return
		}
	}
	if m.Kind == Call {
		if p.ctx.owed == nil {
			p.ctx.owed = make(map[owedCall]struct{})
		}
		p.ctx.owed[owedCall{m.From, m.Session}] = struct{}{}
	}
	p.svc.Receive(&p.ctx, m)
	m.Release()
}

// recoverFrom keeps a panicking handler from taking the process down: the
// panic is logged with its stack and a Call gets it as its error.
func (p *proc) recoverFrom(m *Message) {
	r := recover()
	if r == nil {
		return
	}
	p.log.Error("panic in handler", "cmd", m.Cmd, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if m.Kind == Call {
		p.ctx.Fail(m.From, m.Session, fmt.Errorf("%s: panic: %v", m.Cmd, r))
	}
	m.Release()
}

func (p *proc) init() {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.log.Error("panic in init", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		err = p.svc.Init(&p.ctx)
	}()
	if p.readyPending && err == nil {
		return
	}
	if err != nil {
		p.log.Error("init failed", "err", err)
	}
	p.ready(err)
}

// ready reports the end of Init to whoever launched the service; a failed
// Init stops the service.
func (p *proc) ready(err error) {
	p.readyPending = false
	if p.readySession != 0 {
		to, session := p.readyTo, p.readySession
		p.readySession = 0
		if err != nil {
			p.ctx.Fail(to, session, &Error{Name: p.name, Addr: p.addr, What: "init", Err: err})
		} else {
			p.ctx.reply(to, session, nil)
		}
	}
	if err != nil {
		p.stop()
	}
}

// stop asks protoactor to stop the actor. Safe from any goroutine; the
// work happens on the service's own goroutine (Stopping, then Stopped).
func (p *proc) stop() {
	if p.stopping.Swap(true) {
		return
	}
	p.sys.handles.remove(p.addr) // new posts fail fast from now on
	p.sys.as.Root.Stop(p.pid)
}

// closeMailbox refuses new messages and fails each queued Call.
func (p *proc) closeMailbox() {
	for _, r := range p.mb.close() {
		if m, ok := r.(*Message); ok {
			if m.Kind == Call {
				p.ctx.Fail(m.From, m.Session, &Error{Name: p.name, Addr: p.addr, What: "call " + quote(m.Cmd), Err: ErrExited})
			}
			m.Release()
		}
	}
}

func (p *proc) finish() {
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.log.Error("panic in Stopped", "panic", fmt.Sprint(r))
			}
		}()
		p.svc.Stopped(&p.ctx)
	}()
	exited := &Error{Name: p.name, Addr: p.addr, Err: ErrExited}
	if p.readySession != 0 {
		p.ready(exited)
	}
	clear(p.ctx.calls) // continuations of a dead service never run
	for o := range p.ctx.owed {
		p.ctx.Fail(o.from, o.session, exited)
	}
	p.mb.dead.Store(true)
	p.disp.stop()
	close(p.done)
	p.sys.live.Done()
}

func quote(s string) string { return `"` + s + `"` }
