package root

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tern-dev/tern/actor"
	pb "github.com/tern-dev/tern/proto"
)

// The shutdown protocol, run by the root service:
//
//  1. Send Shutdown to every service but the core ones, one at a time:
//     the named services first, then the anonymous ones (the bootstrap
//     among them), each group in reverse start order (the most recently
//     started first). Each runs its tern.on_shutdown function, finishes
//     its work in flight (refusing new requests) and confirms; then it is
//     stopped. A service that does not confirm within the deadline is
//     named in the log and stopped hard.
//     Then the node leaves its cluster, if it is in one (cluster.go).
//  2. Stop what is left (services started during the shutdown), and wait
//     until every stopped service has finished; one still running at the
//     deadline (a handler that never returns) is named in the log.
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
	queue    []target            // services still to shut down, in order
	current  *target             // waiting for its confirmation
	timer    uint32              // its deadline's timer session
	phase    int                 // 0: Shutdown one by one, 1: the rest, 2: core
	poll     uint32              // timer session while waiting for stops
	missed   map[actor.Addr]bool // named in the log already
}

// target is a service to shut down, as the log names it.
type target struct {
	name  string // its registered name, or its service name (script)
	addr  actor.Addr
	named bool
}

// tick is how often the root checks that stopped services are gone.
const tick = 5 * time.Millisecond

// loggerGrace is how long the logger may take to write what is queued
// at least, even past the shutdown deadline: the lines about a late
// shutdown are the ones that say why.
const loggerGrace = 2 * time.Second

func (s *rootService) begin(c *actor.Context, code int, reason string) {
	if s.stop.running {
		return
	}
	s.rt.stopping.Store(true)
	st := &s.stop
	st.running, st.code = true, code
	st.deadline = time.Now().Add(s.rt.cfg.ShutdownTimeout)
	st.missed = map[actor.Addr]bool{}
	c.Logger().Info("shutdown", "reason", reason, "code", code)
	st.queue = s.order(c)
	s.next(c)
}

// order lists the services to shut down: the gates, then the named
// ones, then the anonymous ones, each the most recently started (highest
// handle) first. Gates go first so that the services their connections
// talk to are still there to see them close.
func (s *rootService) order(c *actor.Context) []target {
	var gates, named, anon []target
	for _, in := range c.System().Services() { // oldest first
		if s.core(c, in.Addr) || in.State == actor.Stopped {
			continue
		}
		name, isNamed := s.rt.table.NameOf(in.Addr)
		if in.Script == gateScript {
			gates = append(gates, target{name: in.Name, addr: in.Addr, named: isNamed})
		} else if isNamed {
			named = append(named, target{name: name, addr: in.Addr, named: true})
		} else {
			anon = append(anon, target{name: in.Name, addr: in.Addr})
		}
	}
	slices.Reverse(gates)
	slices.Reverse(named)
	slices.Reverse(anon)
	return slices.Concat(gates, named, anon)
}

// next asks the next service to shut down.
func (s *rootService) next(c *actor.Context) {
	st := &s.stop
	for len(st.queue) > 0 {
		n := st.queue[0]
		st.queue = st.queue[1:]
		if in, alive := c.System().Info(n.addr); !alive || in.State == actor.Stopped {
			continue
		}
		left := time.Until(st.deadline)
		if left <= 0 {
			s.miss(c, n)
			continue
		}
		st.current = &n
		st.timer = c.NewSession()
		wait := min(left, s.rt.cfg.ShutdownTimeout)
		c.After(wait, st.timer)
		sd := &pb.Shutdown{Reason: "process shutdown", DeadlineUnixMs: time.Now().Add(wait).UnixMilli()}
		c.CallControl(n.addr, sd, func(_ []any, err error) {
			if st.current == nil || st.current.addr != n.addr {
				return // too late: already stopped hard
			}
			if err != nil {
				c.Logger().Warn("shutdown", "name", n.name, "at", n.addr.String(), "err", err)
			}
			st.current, st.timer = nil, 0
			s.kill(c, n.addr)
			s.next(c)
		})
		return
	}
	s.leaveCluster(c)
	s.stopRest(c)
}

// miss stops a service hard that did not confirm in time.
func (s *rootService) miss(c *actor.Context, n target) {
	c.Logger().Error("service missed the shutdown deadline; stopping it", "name", n.name, "at", n.addr.String(), "named", n.named, "timeout", s.rt.cfg.ShutdownTimeout)
	s.stop.code = ExitDeadline
	s.stop.missed[n.addr] = true
	s.kill(c, n.addr)
}

// kill stops the service at a; one already gone is no error.
func (s *rootService) kill(c *actor.Context, a actor.Addr) {
	if err := c.System().Kill(a); err != nil && !errors.Is(err, actor.ErrNoService) {
		c.Logger().Warn("stop", "at", a.String(), "err", err)
	}
}

func (s *rootService) timer(c *actor.Context, session uint32) {
	st := &s.stop
	switch {
	case session == st.timer && st.current != nil:
		n := *st.current
		st.current, st.timer = nil, 0
		s.miss(c, n)
		s.next(c)
	case session == st.poll:
		s.waitStopped(c)
	}
}

// stopRest stops every service but the core ones: those the protocol
// already stopped, and any started meanwhile.
func (s *rootService) stopRest(c *actor.Context) {
	s.stop.phase = 1
	for _, in := range c.System().Services() {
		if !s.core(c, in.Addr) && in.State != actor.Stopped {
			s.kill(c, in.Addr)
		}
	}
	s.waitStopped(c)
}

func (s *rootService) core(c *actor.Context, a actor.Addr) bool {
	return a == c.Self() || a == s.logger || a == actor.Addr(s.rt.names.Load())
}

// waitStopped polls until the services of the current phase are gone:
// every non-core service in phase 1, the name service and the logger in
// phase 2.
func (s *rootService) waitStopped(c *actor.Context) {
	st := &s.stop
	var left []actor.Info
	for _, in := range c.System().Services() {
		if st.phase == 1 && !s.core(c, in.Addr) || st.phase == 2 && in.Addr != c.Self() && s.core(c, in.Addr) {
			left = append(left, in)
		}
	}
	if len(left) > 0 && time.Now().Before(st.deadline) {
		st.poll = c.NewSession()
		c.After(tick, st.poll)
		return
	}
	if len(left) > 0 && st.phase == 1 {
		for _, in := range left {
			if !st.missed[in.Addr] {
				name, _ := s.rt.table.NameOf(in.Addr)
				if name == "" {
					name = in.Name
				}
				c.Logger().Error("service still running at the shutdown deadline", "name", name, "at", in.Addr.String(), "state", in.State.String())
				st.missed[in.Addr] = true
			}
		}
		st.code = ExitDeadline
	}
	if st.phase == 1 {
		// The core: names, then the logger, which writes what is queued
		// by the shutdown deadline (but gets loggerGrace at least: losing
		// the log of a late shutdown would hide why), counts and reports
		// what it could not write, and stops. From here on records are
		// written directly.
		st.phase = 2
		st.deadline = time.Now().Add(max(time.Until(st.deadline), loggerGrace))
		s.kill(c, actor.Addr(s.rt.names.Load()))
		if err := s.rt.handler.Exit(st.deadline); err != nil {
			c.Logger().Warn("stop the logger", "err", err)
		}
		// Wait a little past the logger's own deadline for it to stop.
		st.deadline = st.deadline.Add(100 * time.Millisecond)
		s.waitStopped(c)
		return
	}
	s.finish(c, st.code)
}

// finish ends the runtime with code: the root stops, and Wait returns.
func (s *rootService) finish(c *actor.Context, code int) {
	if s.finished {
		return // a forced exit after the end
	}
	s.finished = true
	r := s.rt
	r.handler.Detach()
	select {
	case <-r.done: // forced: the signal goroutine has logged and ended it
	default:
		c.Logger().Info("stopped", "code", code)
	}
	stuck := len(s.stop.missed)
	for _, in := range c.System().Services() {
		if in.Addr != c.Self() && in.State != actor.Stopped {
			s.kill(c, in.Addr) // a forced exit leaves some
		}
	}
	c.Exit()
	go func() {
		// Close waits for the root's own stop (and any straggler's). A
		// service named stuck will not finish: don't wait long for it.
		wait := time.Second
		if stuck > 0 || code == ExitForced {
			wait = 100 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		r.leaveCluster(ctx) // a forced exit: leave on the way out
		if err := r.sys.Close(ctx); err != nil && stuck == 0 {
			r.log.Warn("services left running", "service", "root", "err", err)
		}
		r.end(code)
	}()
}
