package lua

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// Service is a Lua service: one gopher-lua VM inside one actor. Messages
// are handled one at a time, each in a task (a pooled coroutine); a task
// that makes a blocking call is suspended and the service goes on with the
// next message, so A calling B calling A never deadlocks.
type Service struct {
	rt     *Runtime
	script string // absolute path
	dir    string // the script's directory, first place require looks
	args   []byte // packed arguments from the creator

	c           *actor.Context
	L           *glua.LState
	handlers    *glua.LTable
	loaded      *glua.LTable    // package.loaded
	strmt       *glua.LTable    // strings' metatable
	body        *glua.LFunction // the pooled coroutines' loop
	boot        *glua.LFunction // prelude's boot
	chunk       *glua.LFunction // the script's main chunk
	tracebackFn *glua.LFunction
	done, user  glua.LValue // prelude markers
	start       glua.LValue // function given to tern.start
	onShutdown  glua.LValue // function given to tern.on_shutdown

	inflight     int    // request tasks (and on_shutdown) not yet ended
	shutdownDone func() // set while shutting down, until drained

	cur      *coro // the task running now
	free     []*coro
	threads  map[*glua.LState]*coro
	waiting  map[uint32]waiter      // session -> suspended task
	tokens   map[glua.LValue]*coro  // tern.wait tokens
	timeouts map[uint32]glua.LValue // tern.timeout session -> function
	answers  map[int]owed           // tern.response tokens
	answerID int
	ready    []readyTask // forks and wakeups, run after the current message
	scratch  []glua.LValue
	vm       *vmState // xpcall and require bookkeeping, made on first use (coapi.go)
}

// waiter is a task suspended until a message with its session arrives.
type waiter struct {
	co      *coro
	kind    waitKind
	partner uint32     // calltimeout: the other session of the pair
	addr    actor.Addr // call target or new service
	name    string     // call target's name, when called by name
	cmd     string
}

type waitKind uint8

const (
	waitCall    waitKind = iota
	waitTimeout          // the timer half of a calltimeout
	waitSleep
	waitSpawn
)

type owed struct {
	to      actor.Addr
	session uint32
}

type readyTask struct {
	co   *coro         // a woken task, resumed with no values
	fn   glua.LValue   // or a forked function, run in a new task
	args []glua.LValue // with these arguments
}

var (
	_ actor.Service    = (*Service)(nil)
	_ actor.Shutdowner = (*Service)(nil)
)

// Name is the service name a script gets: its file name without ".lua".
func scriptName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".lua")
}

// Init builds the VM and runs the script's main chunk and its tern.start
// function in the first task. The service is ready when that task ends.
func (s *Service) Init(c *actor.Context) error {
	s.c = c
	if err := s.newVM(); err != nil {
		return err
	}
	c.DeferReady()
	args, err := unpackLAppend(s.L, []glua.LValue{s.boot, s.chunk}, s.args)
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	co := s.getTask()
	co.boot = true
	s.resume(co, args)
	s.runReady()
	return nil
}

// Receive handles one message.
func (s *Service) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Call, actor.Send:
		s.request(m)
	case actor.Reply, actor.Fail:
		s.answer(m)
	case actor.Timer:
		s.timer(m.Session)
	}
	s.runReady()
	s.drained()
}

// Stopped drops the VM; the runtime answers the Calls still owed. It does
// not call L.Close: that returns the VM's call-frame segments to
// gopher-lua's global pool without clearing them, so a new VM would take
// segments whose stale frames keep this dead VM reachable. Dropped, they go
// with the VM to the garbage collector. (No io library: nothing to close.)
func (s *Service) Stopped(c *actor.Context) {
	s.L, s.threads, s.free, s.waiting, s.tokens, s.timeouts = nil, nil, nil, nil, nil, nil
}

// request runs the handler for m.Cmd in a new task.
func (s *Service) request(m *actor.Message) {
	f, ok := s.handlers.RawGetString(m.Cmd).(*glua.LFunction)
	if !ok {
		if m.Kind == actor.Call {
			s.c.Fail(m.From, m.Session, s.errorf(m.Cmd, actor.ErrNoCommand))
		} else {
			s.c.Warn("send to unknown command", m.Cmd, "cmd", m.Cmd, "from", m.From.String())
		}
		return
	}
	args, err := unpackLAppend(s.L, append(s.scratch[:0], f), m.Data)
	if err != nil {
		if m.Kind == actor.Call {
			s.c.Fail(m.From, m.Session, s.errorf(m.Cmd, err))
		}
		return
	}
	co := s.getTask()
	if m.Kind == actor.Call {
		co.from, co.session = m.From, m.Session
	}
	co.cmd, co.request = m.Cmd, true
	s.inflight++
	s.resume(co, args)
}

func (s *Service) errorf(cmd string, err error) error {
	return &actor.Error{Name: s.c.Name(), Addr: s.c.Self(), What: `call "` + cmd + `"`, Err: err}
}

// answer resumes the task waiting for a reply (or a new service's start).
func (s *Service) answer(m *actor.Message) {
	w, ok := s.waiting[m.Session]
	if !ok {
		return // late: the caller timed out or is gone
	}
	delete(s.waiting, m.Session)
	if w.partner != 0 {
		delete(s.waiting, w.partner)
		s.c.CancelTimer(w.partner) // a calltimeout's timer
	}
	args := s.scratch[:0]
	if m.Kind == actor.Fail {
		args = append(args, glua.LFalse, glua.LString(m.Err.Error()))
	} else {
		args = append(args, glua.LTrue)
		if w.kind == waitSpawn {
			args = append(args, glua.LNumber(w.addr))
		} else {
			var err error
			if args, err = unpackLAppend(s.L, args, m.Data); err != nil {
				args = append(args[:0], glua.LFalse, glua.LString(fmt.Sprintf("call %s %q: bad reply: %v", dest{w.addr, w.name}, w.cmd, err)))
			}
		}
	}
	s.resume(w.co, args)
}

// timer wakes a sleeper, runs a tern.timeout function, or ends a
// calltimeout that got no answer in time.
func (s *Service) timer(session uint32) {
	if f, ok := s.timeouts[session]; ok {
		delete(s.timeouts, session)
		s.resume(s.getTask(), append(s.scratch[:0], f))
		return
	}
	w, ok := s.waiting[session]
	if !ok {
		return
	}
	delete(s.waiting, session)
	args := s.scratch[:0]
	if w.kind == waitTimeout {
		delete(s.waiting, w.partner)
		name := w.name
		if name == "" {
			name, _ = s.c.System().Lookup(w.addr)
		}
		err := &actor.Error{Name: name, Addr: w.addr, What: `call "` + w.cmd + `"`, Err: actor.ErrTimeout}
		args = append(args, glua.LFalse, glua.LString(err.Error()))
	}
	s.resume(w.co, args)
}

// runReady runs what forks and wakeups queued, in order.
func (s *Service) runReady() {
	for len(s.ready) > 0 {
		r := s.ready[0]
		s.ready[0] = readyTask{}
		s.ready = s.ready[1:]
		if r.co != nil {
			s.resume(r.co, nil)
		} else {
			s.resume(s.getTask(), append(append(s.scratch[:0], r.fn), r.args...))
		}
	}
	s.ready = s.ready[:0]
}

// resume runs task co until it ends or suspends. A fresh task gets the
// function to run and its arguments; a suspended one gets the values its
// blocking call returns. args is usually s.scratch, reused.
func (s *Service) resume(co *coro, args []glua.LValue) {
	s.cur = co
	st, err, vals := s.L.Resume(co.th, nil, args...)
	s.cur = nil
	clear(args)
	s.scratch = args[:0]
	request := co.request
	switch {
	case st == glua.ResumeError:
		s.crashed(co, err)
	case st == glua.ResumeYield && len(vals) > 0 && vals[0] == s.done:
		s.finished(co, vals[1:])
	case st == glua.ResumeYield && len(vals) > 0 && vals[0] == s.user:
		s.dropTask(co)
		s.taskFailed(co, "coroutine.yield outside a coroutine", "")
	case st == glua.ResumeOK:
		s.dropTask(co) // the loop body never returns; be safe anyway
	default:
		return // suspended: the blocking call registered it
	}
	if request {
		s.inflight--
	}
}

// Shutdown is the service's part of the shutdown protocol (the runtime
// already refuses new requests): run the tern.on_shutdown function, let
// the requests in flight finish, then report done.
func (s *Service) Shutdown(c *actor.Context, done func()) {
	s.shutdownDone = done
	if s.onShutdown != nil {
		co := s.getTask()
		co.request, co.cmd = true, "on_shutdown"
		s.inflight++
		s.resume(co, append(s.scratch[:0], s.onShutdown))
		s.runReady()
	}
	s.drained()
}

// drained reports the end of a shutdown once nothing is in flight.
func (s *Service) drained() {
	if s.shutdownDone != nil && s.inflight == 0 && len(s.answers) == 0 {
		done := s.shutdownDone
		s.shutdownDone = nil
		done()
	}
}

func (s *Service) finished(co *coro, results []glua.LValue) {
	if co.boot {
		// Pooled like any task: the closures the script made here keep
		// this coroutine's state alive anyway (gopher-lua's closed
		// upvalues still point at the registry they came from).
		s.putTask(co)
		s.c.Ready(nil)
		return
	}
	if co.session != 0 && !co.deferred {
		m := actor.NewMessage()
		data, err := packLSlice(m.Data[:0], results, s.rt.maxMessage)
		if err != nil {
			m.Release()
			s.c.Fail(co.from, co.session, s.errorf(co.cmd, fmt.Errorf("cannot return the results: %w", err)))
		} else {
			m.Kind, m.Session, m.Data = actor.Reply, co.session, data
			s.c.Answer(co.from, m)
		}
	}
	s.putTask(co)
}

func (s *Service) crashed(co *coro, err error) {
	s.dropTask(co)
	msg := err.Error()
	if ae, ok := err.(*glua.ApiError); ok {
		msg = ae.Object.String()
	}
	s.taskFailed(co, msg, co.trace)
}

// taskFailed logs a task's error with its traceback and answers the
// request it was serving with the error.
func (s *Service) taskFailed(co *coro, msg, trace string) {
	if trace == "" {
		trace = msg
	}
	switch {
	case co.boot:
		s.c.Logger().Error("init failed", "err", trace)
		s.c.Ready(actor.Raised(msg))
	case co.session != 0 && !co.deferred:
		s.c.Logger().Error("handler failed", "cmd", co.cmd, "err", trace)
		s.c.Fail(co.from, co.session, s.errorf(co.cmd, actor.Raised(msg)))
	default:
		s.c.Logger().Error("task failed", "cmd", co.cmd, "err", trace)
	}
}
