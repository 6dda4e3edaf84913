package lua

import (
	"fmt"
	"time"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// A task suspended in a blocking call (tern.call, calltimeout, sleep,
// newservice) waits in the actor's session table, which hands it the
// Reply, Fail or Timer with its session: coro.Wake resumes it with what
// its call returns. tern.timeout's function waits the same way.

// waitState is what a suspended task waits for.
type waitState struct {
	kind    waitKind
	session uint32     // the session waited on: a call's, a sleep's timer, a spawn's
	timer   uint32     // calltimeout: its timer's session
	addr    actor.Addr // call target or new service
	name    string     // call target's name, when called by name
	cmd     string
	sent    time.Time // a traced call: when it was sent (trace.go)
}

type waitKind uint8

const (
	waitCall waitKind = iota
	waitSleep
	waitSpawn
)

var _ actor.Waiter = (*coro)(nil)

// await suspends the running task on session until its answer or timer.
func (s *Service) await(session uint32, w waitState) {
	w.session = session
	s.cur.wait = w
	s.c.Await(session, s.cur)
}

// Wake resumes the task with the message it waited for.
func (c *coro) Wake(m *actor.Message) {
	s := c.s
	w := c.wait
	c.wait = waitState{}
	args := s.scratch[:0]
	switch {
	case m.Kind == actor.Timer && w.kind == waitCall: // a calltimeout ran out
		s.c.Unawait(w.session) // its answer, if it comes, is late
		name := w.name
		if name == "" {
			name, _ = s.c.System().Lookup(w.addr)
		}
		err := &actor.Error{Name: name, Addr: w.addr, What: `call "` + w.cmd + `"`, Err: actor.ErrTimeout}
		args = append(args, glua.LFalse, glua.LString(err.Error()))
	case m.Kind == actor.Timer: // sleep
	case m.Kind == actor.Fail:
		s.stopTimer(w)
		args = append(args, glua.LFalse, glua.LString(m.Err.Error()))
	case w.kind == waitSpawn:
		args = append(args, glua.LTrue, glua.LNumber(w.addr))
	default:
		s.stopTimer(w)
		var err error
		if args, err = unpackLAppend(s.L, append(args, glua.LTrue), m.Data); err != nil {
			args = append(args[:0], glua.LFalse, glua.LString(fmt.Sprintf("call %s %q: bad reply: %v", dest{w.addr, w.name}, w.cmd, err)))
		}
	}
	if c.tag != "" && w.kind == waitCall {
		s.traceAnswer(c, w, m)
	}
	s.resume(c, args)
	s.settle()
}

// stopTimer cancels a calltimeout's timer once its call is answered.
func (s *Service) stopTimer(w waitState) {
	if w.timer != 0 {
		s.c.Unawait(w.timer)
		s.c.CancelTimer(w.timer)
	}
}

// timeoutTask is a tern.timeout function waiting for its timer.
type timeoutTask struct {
	s  *Service
	fn glua.LValue
}

// Wake runs the function in a new task.
func (t *timeoutTask) Wake(*actor.Message) {
	s := t.s
	s.resume(s.getTask(), append(s.scratch[:0], t.fn))
	s.settle()
}
