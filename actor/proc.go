package actor

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	pb "github.com/tern-dev/tern/proto"
)

// proc is one live service: a protoactor actor with our mailbox and
// dispatcher, the Service it hosts, and its reused Context.
type proc struct {
	limits  *Limits // its own limits (SpawnOptions.Limits); nil: the runtime's
	sys     *System
	addr    Addr
	name    string
	script  string
	svc     Service
	state   atomic.Int32 // a State
	pid     *pa.PID
	mb      mailbox
	ctx     Context
	lg      atomic.Pointer[slog.Logger] // logger()
	started time.Time

	readyTo      Addr
	readySession uint32
	readyPending bool // Init deferred its readiness
	// drainTakes: a Drainer that takes requests while it shuts down
	// (decided at spawn).
	drainTakes bool

	// The Shutdown request being served: answered when the service is
	// done, failed if it exits first.
	shutdownFrom    Addr
	shutdownSession uint32

	stopping atomic.Bool  // Stop was requested
	tasks    atomic.Int32 // the service's live tasks, as it last said (SetTasks)
	memory   atomic.Int64 // its memory estimate in bytes, as it last said (SetMemory)
	done     chan struct{}

	// Statistics (Info). sent is counted by the service's own goroutine
	// and published into sentOut at the end of a turn (publish); the
	// rare ones are added directly.
	sent    uint64
	sentOut atomic.Uint64
	errors  atomic.Uint64
	busy    atomic.Int64 // nanoseconds of the tick clock
	wall    atomic.Int64 // nanoseconds of requests, arrival to end (AddWall)
	walls   atomic.Bool  // the service reports wall time itself
	reloads atomic.Uint64
}

var _ pa.Actor = (*proc)(nil)

// Spawn starts svc as a new service and returns its address at once; Init
// runs on the service's goroutine right after.
func (s *System) Spawn(svc Service, o SpawnOptions) (Addr, error) {
	s.spawnMu.RLock()
	defer s.spawnMu.RUnlock()
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
		script:       o.Script,
		limits:       o.Limits,
		svc:          svc,
		started:      time.Now(),
		readyTo:      o.ReadyTo,
		readySession: o.ReadySession,
		done:         make(chan struct{}),
	}
	if d, ok := svc.(Drainer); ok {
		p.drainTakes = d.AcceptsWhileDraining()
	}
	p.ctx.p = p
	p.mb.init(s.limit, func(n int) {
		p.logger().Warn("may overload", "queue", n)
	})
	p.mb.deliver = p.deliver
	p.mb.owner = p
	if o.Dedicated {
		p.mb.dedicated = newParked()
		p.mb.run = p.mb.process
	} else {
		p.mb.pool = s.pool
	}
	// The PID is made before the spawn: Init may run (and stop the
	// service) before SpawnNamed returns.
	p.pid = s.as.NewLocalPID(p.pidName())
	props := pa.PropsFromProducer(func() pa.Actor { return p },
		pa.WithMailbox(func() pa.Mailbox { return &p.mb }),
		pa.WithDispatcher(s.pool))
	s.procs.add(p)
	s.handles.put(p)
	if _, err := s.as.Root.SpawnNamed(props, p.pidName()); err != nil {
		s.handles.remove(p.addr)
		if p.mb.dedicated != nil {
			p.mb.dedicated.stop()
		}
		s.procs.remove(p.addr)
		return None, fmt.Errorf("actor: spawn %s: %w", o.Name, err)
	}
	return p.addr, nil
}

// logger is the service's logger, with its name and address, made on
// first use: most services never log, and making it cost every spawn an
// allocation and the address's formatting.
func (p *proc) logger() *slog.Logger {
	if l := p.lg.Load(); l != nil {
		return l
	}
	p.lg.CompareAndSwap(nil, p.sys.log.With("service", p.name, "addr", p.addr.String()))
	return p.lg.Load()
}

// pidName is the service's protoactor actor id.
func (p *proc) pidName() string { return "tern" + p.addr.String() }

// Launch spawns svc and waits until its Init has succeeded or failed.
func (s *System) Launch(ctx context.Context, svc Service, o SpawnOptions) (Addr, error) {
	session, wait := s.Await()
	o.ReadyTo, o.ReadySession = None, session
	a, err := s.Spawn(svc, o)
	if err != nil {
		s.Forget(session)
		return None, err
	}
	return a, wait(ctx, a)
}

// Await reserves a session for Go code outside any service to learn when
// a service it spawns with ReadyTo None and this session is ready. wait
// returns Init's error, or ctx's, and frees the session.
func (s *System) Await() (session uint32, wait func(ctx context.Context, a Addr) error) {
	session, ch := s.await()
	return session, func(ctx context.Context, a Addr) error {
		defer s.outside.Delete(session)
		m, err := s.wait(ctx, a, "start", ch)
		if m != nil {
			m.Release()
		}
		return err
	}
}

// Forget frees a session from Await that will not be waited on.
func (s *System) Forget(session uint32) { s.outside.Delete(session) }

// Receive is protoactor's entry point for the lifecycle; tern's own
// messages go from the mailbox straight to deliver.
func (p *proc) Receive(c pa.Context) {
	switch c.Message().(type) {
	case *pa.Started:
		p.init()
	case *pa.Stopping:
		p.closeMailbox()
	case *pa.Stopped:
		p.finish()
	}
}

// deliver is the one dispatch on a message's kind: an answer or timer
// goes to what waits on its session, a request is recorded as owed and
// handed to the service, as is anything else.
func (p *proc) deliver(m *Message) {
	defer p.recoverFrom(m)
	switch m.Kind {
	case Reply, Fail, Timer:
		if k, ok := p.ctx.calls.take(m.Session); ok {
			k.done(m)
			m.Release()
			return
		}
	case Call, Send:
		if State(p.state.Load()) == ShuttingDown && !p.drainTakes {
			p.refuseShuttingDown(m)
			return
		}
		if m.Kind == Call {
			p.ctx.cur, p.ctx.curOwed = owedCall{m.From, m.Session}, true
		}
	case Control:
		switch ctl := m.Ctl.(type) {
		case *pb.Shutdown:
			p.shutdown(ctl, m)
			m.Release()
			return
		case *Reload:
			p.reload(m)
			m.Release()
			return
		}
	}
	p.ctx.kept = false
	p.svc.Receive(&p.ctx, m)
	p.ctx.owe()
	if !p.ctx.kept {
		m.Release()
	}
}

// shutdown starts the service's part of the shutdown protocol: refuse new
// requests (a Drainer that accepts them still gets them), let the service
// finish what is in flight, then confirm.
func (p *proc) shutdown(sd *pb.Shutdown, m *Message) {
	from, session := m.From, m.Session
	if State(p.state.Load()) == ShuttingDown {
		p.ctx.Fail(from, session, &Error{Name: p.name, Addr: p.addr, What: "shutdown", Err: ErrShuttingDown})
		return
	}
	p.state.Store(int32(ShuttingDown))
	p.logger().Info("shutting down", "reason", sd.GetReason())
	p.shutdownFrom, p.shutdownSession = from, session
	if ms := sd.GetDeadlineUnixMs(); ms > 0 {
		p.ctx.deadline = time.UnixMilli(ms)
	}
	done := func() {
		if p.shutdownSession != 0 {
			p.ctx.reply(p.shutdownFrom, p.shutdownSession, nil)
			p.shutdownSession = 0
		}
	}
	if s, ok := p.svc.(Shutdowner); ok {
		s.Shutdown(&p.ctx, done)
		return
	}
	done()
}

func (p *proc) refuseShuttingDown(m *Message) {
	err := &Error{Name: p.name, Addr: p.addr, What: m.Kind.String() + " " + quote(m.Cmd), Err: ErrShuttingDown}
	if m.Kind == Call {
		p.ctx.Fail(m.From, m.Session, err)
	} else {
		p.errors.Add(1)
		p.ctx.Warn("send refused: shutting down", m.Cmd, "cmd", m.Cmd, "from", m.From.String())
	}
	m.Release()
}

// recoverFrom keeps a panicking handler from taking the process down: the
// panic is logged with its stack and a Call gets it as its error.
func (p *proc) recoverFrom(m *Message) {
	r := recover()
	if r == nil {
		return
	}
	p.logger().Error("panic in handler", "cmd", m.Cmd, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	if m.Kind == Call && p.ctx.curOwed {
		p.ctx.Fail(m.From, m.Session, fmt.Errorf("%s: panic: %v", m.Cmd, r)) // counted as an error
	} else {
		p.errors.Add(1)
	}
	p.ctx.owe() // a Call the handler kept to answer later stays owed
	if !p.ctx.kept {
		m.Release()
	}
}

func (p *proc) init() {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.logger().Error("panic in init", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		err = p.svc.Init(&p.ctx)
	}()
	if p.readyPending && err == nil {
		return
	}
	if err != nil {
		p.logger().Error("init failed", "err", err)
	}
	p.ready(err)
}

// ready reports the end of Init to whoever launched the service; a failed
// Init stops the service.
func (p *proc) ready(err error) {
	p.readyPending = false
	if err == nil {
		p.state.CompareAndSwap(int32(Starting), int32(Running))
	}
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

// closeMailbox refuses new messages and fails each queued Call. Queued
// sends are dropped, with one log line saying how many.
func (p *proc) closeMailbox() {
	sends := 0
	for _, r := range p.mb.close() {
		if m, ok := r.(*Message); ok {
			switch {
			case m.Kind == Call || m.Kind == Control && m.Session != 0:
				p.ctx.Fail(m.From, m.Session, &Error{Name: p.name, Addr: p.addr, What: "call " + quote(m.Cmd), Err: ErrExited})
			case m.Kind == Send:
				sends++
			}
			m.Release()
		}
	}
	if sends > 0 {
		p.logger().Warn("exited with sends queued; dropped", "count", sends)
	}
}

func (p *proc) finish() {
	func() {
		defer func() {
			if r := recover(); r != nil {
				p.logger().Error("panic in Stopped", "panic", fmt.Sprint(r))
			}
		}()
		p.svc.Stopped(&p.ctx)
	}()
	exited := &Error{Name: p.name, Addr: p.addr, Err: ErrExited}
	if p.readySession != 0 {
		p.ready(exited)
	}
	p.ctx.calls.clear() // continuations of a dead service never run
	for o := range p.ctx.owed {
		p.ctx.Fail(o.from, o.session, exited)
	}
	if p.shutdownSession != 0 {
		p.ctx.Fail(p.shutdownFrom, p.shutdownSession, exited)
	}
	p.state.Store(int32(Stopped))
	p.publish() // the exit hooks see the final statistics
	if hooks := p.sys.exitHooks.Load(); hooks != nil {
		for _, fn := range *hooks {
			fn(p.addr)
		}
	}
	p.mb.dead.Store(true)
	if p.mb.dedicated != nil {
		p.mb.dedicated.stop()
	}
	close(p.done)
	if p.sys.procs.remove(p.addr) == 0 && p.sys.closing.Load() {
		p.sys.doneOnce.Do(func() { close(p.sys.allDone) })
	}
}

func quote(s string) string { return `"` + s + `"` }
