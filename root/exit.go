package root

import (
	"context"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	pb "github.com/tern-dev/tern/proto"
)

// The shutdown protocol, run by the root service:
//
//  1. Send Shutdown to every named service, the most recently started
//     first, one at a time. Each finishes its work in flight (refusing new
//     requests) and confirms; then it is stopped. A service that does not
//     confirm within the deadline is named in the log and stopped hard.
//  2. Stop the anonymous services.
//  3. Stop the name service, then the logger (it writes everything queued
//     first), then the root itself: the runtime is done.
//
// The deadline (Config.ShutdownTimeout) holds for each service and for the
// whole: past it, what is left is stopped hard. Missing it makes the exit
// code ExitDeadline.
type shutdown struct {
	running  bool
	code     int
	deadline time.Time
	queue    []names.Named // named services still to shut down
	current  *names.Named  // waiting for its confirmation
	timer    uint32        // its deadline's timer session
	phase    int           // 0: named, 1: anonymous, 2: core
	poll     uint32        // timer session while waiting for stops
}

// tick is how often the root checks that stopped services are gone.
const tick = 5 * time.Millisecond

// loggerGrace is how long the logger may take to write what is queued.
const loggerGrace = 2 * time.Second

func (s *rootService) begin(c *actor.Context, code int, reason string) {
	if s.stop.running {
		return
	}
	st := &s.stop
	st.running, st.code = true, code
	st.deadline = time.Now().Add(s.rt.cfg.ShutdownTimeout)
	c.Logger().Info("shutdown", "reason", reason, "code", code)
	for _, n := range s.rt.table.Named() {
		if n.Addr != c.Self() && n.Addr != s.logger && n.Addr != s.rt.names {
			st.queue = append(st.queue, n)
		}
	}
	s.next(c)
}

// next asks the next named service to shut down.
func (s *rootService) next(c *actor.Context) {
	st := &s.stop
	for len(st.queue) > 0 {
		n := st.queue[0]
		st.queue = st.queue[1:]
		if _, alive := c.System().Info(n.Addr); !alive {
			continue
		}
		left := time.Until(st.deadline)
		if left <= 0 {
			s.missed(c, n)
			continue
		}
		st.current = &n
		st.timer = c.NewSession()
		c.After(min(left, s.rt.cfg.ShutdownTimeout), st.timer)
		c.CallControl(n.Addr, &pb.Shutdown{Reason: "process shutdown"}, func(_ []any, err error) {
			if st.current == nil || st.current.Addr != n.Addr {
				return // too late: already stopped hard
			}
			if err != nil {
				c.Logger().Warn("shutdown", "name", n.Name, "addr", n.Addr.String(), "err", err)
			}
			st.current, st.timer = nil, 0
			_ = c.System().Kill(n.Addr)
			s.next(c)
		})
		return
	}
	s.stopAnonymous(c)
}

// missed stops a service hard that did not confirm in time.
func (s *rootService) missed(c *actor.Context, n names.Named) {
	c.Logger().Error("service missed the shutdown deadline; stopping it", "name", n.Name, "addr", n.Addr.String(), "timeout", s.rt.cfg.ShutdownTimeout)
	s.stop.code = ExitDeadline
	_ = c.System().Kill(n.Addr)
}

func (s *rootService) timer(c *actor.Context, session uint32) {
	st := &s.stop
	switch {
	case session == st.timer && st.current != nil:
		n := *st.current
		st.current, st.timer = nil, 0
		s.missed(c, n)
		s.next(c)
	case session == st.poll:
		s.waitStopped(c)
	}
}

// stopAnonymous stops every service but the core ones.
func (s *rootService) stopAnonymous(c *actor.Context) {
	s.stop.phase = 1
	for _, in := range c.System().Services() {
		if !s.core(c, in.Addr) {
			_ = c.System().Kill(in.Addr)
		}
	}
	s.waitStopped(c)
}

func (s *rootService) core(c *actor.Context, a actor.Addr) bool {
	return a == c.Self() || a == s.logger || a == s.rt.names
}

// waitStopped polls until the services of the current phase are gone.
func (s *rootService) waitStopped(c *actor.Context) {
	st := &s.stop
	left := 0
	for _, in := range c.System().Services() {
		if st.phase == 1 && !s.core(c, in.Addr) || st.phase == 2 && in.Addr != c.Self() {
			left++
		}
	}
	if left > 0 && time.Now().Before(st.deadline) {
		st.poll = c.NewSession()
		c.After(tick, st.poll)
		return
	}
	if left > 0 && st.phase == 1 {
		c.Logger().Error("services still running at the shutdown deadline", "count", left)
		st.code = ExitDeadline
	}
	if st.phase == 1 {
		// The core: names, then the logger, which writes what is queued
		// before its "exit" and then stops. It gets a grace period past
		// the deadline: losing the log of a late shutdown would hide why.
		st.phase = 2
		st.deadline = time.Now().Add(loggerGrace)
		_ = c.System().Kill(s.rt.names)
		_ = c.System().Send(s.logger, "exit")
		s.waitStopped(c)
		return
	}
	s.finish(c, st.code)
}

// finish ends the runtime with code: the root stops, and Wait returns.
func (s *rootService) finish(c *actor.Context, code int) {
	s.rt.handler.Detach()
	c.Logger().Info("stopped", "code", code)
	s.rt.code = code
	for _, in := range c.System().Services() {
		if in.Addr != c.Self() {
			_ = c.System().Kill(in.Addr) // a forced exit leaves some
		}
	}
	c.Exit()
	go func() {
		// Close waits for the root's own stop (and any straggler's).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.rt.sys.Close(ctx)
		close(s.rt.done)
	}()
}
