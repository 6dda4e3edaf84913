package lua

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	glua "github.com/yuin/gopher-lua"
)

// Service is a Lua service: one gopher-lua VM inside one actor. Messages
// are handled one at a time, each in a task (a pooled coroutine); a task
// that makes a blocking call is suspended and the service goes on with the
// next message, so A calling B calling A never deadlocks.
type Service struct {
	rt     *Runtime
	script string      // absolute path
	dir    string      // the script's directory, first place require looks
	found  os.FileInfo // the script's stat when it was found, for the chunk cache
	args   []byte      // packed arguments from the creator

	c           *actor.Context
	L           *glua.LState
	handlers    *glua.LTable
	loaded      *glua.LTable    // package.loaded
	strmt       *glua.LTable    // strings' metatable
	gmt         *glua.LTable    // the globals' metatable, until a script sets its own
	body        *glua.LFunction // the pooled coroutines' loop
	boot        *glua.LFunction // prelude's boot
	chunk       *glua.LFunction // the script's main chunk
	tracebackFn *glua.LFunction
	start       glua.LValue // function given to tern.start
	onShutdown  glua.LValue // function given to tern.on_shutdown
	onSave      glua.LValue // function given to tern.on_save
	onRestore   glua.LValue // function given to tern.on_restore
	reloading   *reload     // a reload under way (reload.go)
	reloaded    bool        // this VM came from a reload: modules read fresh
	tasks       int         // live tasks as last published (Context.SetTasks)

	// viaNames counts, per name, the messages this service sent through
	// the name service that it has not acked yet (names.Acked): while
	// any is there, later ones to that name go the same way, or they
	// could overtake them (msgapi.go's resolve).
	viaNames map[string]int

	inflight     int    // request tasks (and on_shutdown) not yet ended
	shutdownDone func() // set while shutting down, until drained

	// Tasks suspended in a blocking call wait in the actor's one session
	// table (Context.Await); answers and timers come back through
	// coro.Wake. Calls answered later with tern.response stay in the
	// actor's one ledger of owed Calls.
	cur     *coro // the task running now
	free    []*coro
	threads map[*glua.LState]*coro
	tokens  map[glua.LValue]*coro // tern.wait tokens
	ready   []readyTask           // forks and wakeups, run after the current message
	scratch []glua.LValue
	rets    []glua.LValue // what the last resume yielded or returned (resume.go)
	vm      *vmState      // xpcall and require bookkeeping, made on first use (coapi.go)

	mem *memState // the memory limit's bookkeeping; nil without one (memlimit.go)

	nest       int // resumes from Go under way: pcall, xpcall, coroutine.resume (nest.go)
	nestFrames int // the Lua frames of the coroutines they nest in
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
	c.SetInterrupt(armBudget) // the run budget (budget.go)
	if limit := s.memoryLimit(); limit.On() {
		s.mem = &memState{limit: limit}
		s.watchMemory()
	}
	chunk, err := s.rt.protos.load(s.script, s.found)
	s.found = nil
	if err != nil {
		return fmt.Errorf("load %s: %w", s.script, err)
	}
	if err := s.newVM(chunk); err != nil {
		return err
	}
	c.DeferReady()
	return s.startBoot(c.Ready)
}

// startBoot runs the script's main chunk and its tern.start function in
// the first task; end gets its outcome.
func (s *Service) startBoot(end func(error)) error {
	args, err := unpackLAppend(s.L, []glua.LValue{s.boot, s.chunk}, s.args)
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	s.runFirst("init", args, end)
	return nil
}

// runFirst runs fn and args in a task whose end (nil, or the error it
// raised) goes to end: the init, or a reload's on_restore.
func (s *Service) runFirst(what string, args []glua.LValue, end func(error)) {
	co := s.getTask()
	co.boot, co.cmd, co.onEnd = true, what, end
	s.resume(co, args)
	s.runReady()
}

// Receive handles a request. Answers and timers go to the tasks waiting
// for them (coro.Wake); what reaches Receive otherwise is late (a
// calltimeout's answer after its timeout) and nobody waits for it.
func (s *Service) Receive(c *actor.Context, m *actor.Message) {
	if m.Kind == actor.Control {
		if in, ok := m.Ctl.(*Inject); ok {
			s.inject(c, m, in)
			s.settle()
			return
		}
		if _, ok := m.Ctl.(*MeasureMemory); ok {
			s.measure(c, m)
			return
		}
		if a, ok := m.Ctl.(names.Acked); ok {
			if s.viaNames[a.Name] <= 1 {
				delete(s.viaNames, a.Name)
			} else {
				s.viaNames[a.Name]--
			}
			return
		}
	}
	if m.Kind != actor.Call && m.Kind != actor.Send {
		c.Logger().Debug("late message dropped", "kind", m.Kind.String(), "session", m.Session, "from", m.From.String())
		return
	}
	if s.reloading != nil {
		s.hold(c, m)
		return
	}
	s.request(m)
	s.settle()
}

// settle runs what the last message made ready, then reports the end of a
// shutdown if nothing is left in flight.
func (s *Service) settle() {
	s.runReady()
	s.drained()
	if s.mem != nil {
		s.checkMemory()
	}
	if n := len(s.threads) - len(s.free); n != s.tasks {
		s.tasks = n
		s.c.SetTasks(n)
	}
}

// Stopped drops the VM; the runtime answers the Calls still owed. It does
// not call L.Close: that returns the VM's call-frame segments to
// gopher-lua's global pool without clearing them, so a new VM would take
// segments whose stale frames keep this dead VM reachable. Dropped, they go
// with the VM to the garbage collector. (No io library: nothing to close.)
func (s *Service) Stopped(c *actor.Context) {
	if r := s.reloading; r != nil {
		s.reloading = nil
		r.next.Stopped(c)
		for _, m := range r.held {
			m.Release() // owed Calls among them fail with the rest
		}
		r.done(actor.ErrExited)
	}
	if s.mem != nil {
		s.unwatchMemory()
		s.mem.runEnds()
	}
	s.L, s.threads, s.free, s.tokens = nil, nil, nil, nil
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
	if s.overloaded(m) {
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
	co.cmd, co.request, co.began = m.Cmd, true, actor.Ticks()
	if m.Trace != "" {
		co.tag = m.Trace
		s.traceIn(m)
	}
	s.inflight++
	s.resume(co, args)
}

func (s *Service) errorf(cmd string, err error) error {
	return &actor.Error{Name: s.c.Name(), Addr: s.c.Self(), What: `call "` + cmd + `"`, Err: err}
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
	s.running(co)
	s.cur = co
	if s.mem != nil {
		s.mem.runBegins()
	}
	st, err, vals := s.resumeThread(co.th, args)
	if s.mem != nil {
		s.mem.runEnds()
	}
	s.cur = nil
	clear(args)
	s.scratch = args[:0]
	request, began := co.request, co.began
	switch {
	case st == glua.ResumeError:
		s.crashed(co, err)
	case st == glua.ResumeYield && len(vals) > 0 && vals[0] == doneMark:
		s.finished(co, vals[1:])
	case st == glua.ResumeYield && len(vals) > 0 && vals[0] == userMark:
		s.dropTask(co)
		s.taskFailed(co, "coroutine.yield outside a coroutine", "")
	case st == glua.ResumeOK:
		s.dropTask(co) // the loop body never returns; be safe anyway
	default:
		clear(vals)
		return // suspended: the blocking call registered it
	}
	clear(vals) // s.rets: keep nothing alive
	if request {
		s.inflight--
		if began != 0 {
			s.c.AddWall(actor.Ticks() - began)
		}
	}
}

// Shutdown is the service's part of the shutdown protocol (the runtime
// already refuses new requests): run the tern.on_shutdown function, let
// the requests in flight finish, then report done.
func (s *Service) Shutdown(c *actor.Context, done func()) {
	if s.reloading != nil {
		s.abortReload(actor.ErrShuttingDown)
	}
	s.shutdownDone = done
	if s.onShutdown != nil {
		co := s.getTask()
		co.request, co.cmd = true, "on_shutdown"
		s.inflight++
		s.resume(co, append(s.scratch[:0], s.onShutdown))
	}
	s.settle()
}

// drained reports the end of a shutdown once nothing is in flight: no
// task serving a request, no Call owed (tern.response).
func (s *Service) drained() {
	if s.shutdownDone != nil && s.inflight == 0 && s.c.Owed() == 0 {
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
		end := co.onEnd
		s.putTask(co)
		s.compact()
		end(nil)
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
		s.c.Logger().Error(co.cmd+" failed", "err", trace)
		co.onEnd(actor.Raised(msg))
	case co.session != 0 && !co.deferred:
		s.c.Logger().Error("handler failed", "cmd", co.cmd, "err", trace)
		s.c.Fail(co.from, co.session, s.errorf(co.cmd, actor.Raised(msg)))
	default:
		s.c.Logger().Error("task failed", "cmd", co.cmd, "err", trace)
	}
}
