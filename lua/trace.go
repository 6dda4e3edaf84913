package lua

import (
	"time"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// Tracing a request: tern.trace(tag) tags the running task. Every call
// and send it makes carries the tag (actor.Message.Trace), the task that
// handles such a request in another service is tagged in turn, and so on
// down the chain. Each hop is one line in the log, at info level:
//
//	msg=trace tag=T hop=call to=db cmd=get         (a traced call leaves)
//	msg=trace tag=T hop=recv from=:0000000b cmd=get (a traced request arrives)
//	msg=trace tag=T hop=answer to=db cmd=get took=1.2ms (its answer is back)
//
// An untraced message costs one string-length test on each side. The
// console's `trace X CMD ...` (and Go's actor.WithTrace) starts a traced
// request from outside. The tag is a Go string on the message: it will
// cross nodes in the Envelope with the cluster.

// lTrace is tern.trace(tag): tags the running task (nil or "" untags it)
// and returns the tag it had.
func lTrace(s *Service, L *glua.LState) int {
	co := s.cur
	if co == nil {
		L.RaiseError("tern.trace: no task is running")
	}
	prev := co.tag
	switch v := L.Get(1).(type) {
	case *glua.LNilType:
		co.tag = ""
	case glua.LString:
		co.tag = string(v)
	case glua.LNumber:
		co.tag = v.String()
	default:
		L.ArgError(1, "a trace tag (string) or nil expected, got "+v.Type().String())
	}
	if co.tag != "" && co.tag != prev {
		s.c.Logger().Info("trace", "tag", co.tag, "hop", "start", "cmd", co.cmd)
	}
	if prev == "" {
		L.Push(glua.LNil)
	} else {
		L.Push(glua.LString(prev))
	}
	return 1
}

// traceClock is when a call leaves, if the running task is traced.
func (s *Service) traceClock() time.Time {
	if co := s.cur; co != nil && co.tag != "" {
		return time.Now()
	}
	return time.Time{}
}

// traceIn logs a traced request's arrival.
func (s *Service) traceIn(m *actor.Message) {
	s.c.Logger().Info("trace", "tag", m.Trace, "hop", "recv", "from", m.From.String(), "cmd", m.Cmd, "kind", m.Kind.String())
}

// traceOut logs a traced task's call or send as it leaves.
func (s *Service) traceOut(co *coro, kind actor.Kind, to dest, cmd string) {
	s.c.Logger().Info("trace", "tag", co.tag, "hop", kind.String(), "to", to.String(), "cmd", cmd)
}

// traceAnswer logs the answer to a traced task's call, with the call's
// round trip.
func (s *Service) traceAnswer(co *coro, w waitState, m *actor.Message) {
	outcome := "reply"
	switch m.Kind {
	case actor.Fail:
		outcome = "fail"
	case actor.Timer:
		outcome = "timeout"
	}
	s.c.Logger().Info("trace", "tag", co.tag, "hop", "answer", "to", dest{w.addr, w.name}.String(), "cmd", w.cmd, "outcome", outcome, "took", time.Since(w.sent).Round(time.Microsecond))
}
