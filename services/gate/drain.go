package gate

import (
	"time"

	"github.com/tern-dev/tern/actor"
)

// The gate's shutdown is a drain: the server answers every request it
// accepted, and accepts no more.
//
//  1. Shutdown closes the listeners and marks every connection draining
//     (under its postMu): from then on its reader drops the frames it
//     reads (they were not accepted), without posting them.
//  2. A connection whose events are all handled (inflight 0: its last
//     event's Done posts drainMsg) waits while the services that handle
//     them (its target and the watchdog) still have live tasks: a Lua
//     handler suspended in tern.sleep or tern.call has released its
//     event, not finished it. The gate polls those every pollEvery. A
//     task cannot say which connection it serves, so this waits for all
//     of a service's tasks: one that never ends (a loop in tern.fork)
//     holds the connections behind it until the deadline.
//  3. Then the gate posts itself closeMsg, which its mailbox puts after
//     every write those services sent before: its handler asks the
//     connection to close, and the writer flushes what is queued, then
//     closes (finish).
//  4. The gate confirms once no connection is left (goneMsg). At the
//     deadline (a little before the root's) what is left is closed hard.
//
// The gate is a Drainer: while it drains the runtime still delivers the
// writes, closes and forwards the services behind it send (the root shuts
// those down after the gate).

// pollEvery is how often a draining gate looks whether the services
// behind its connections are still busy.
const pollEvery = 5 * time.Millisecond

// The gate's control messages to itself.
type (
	goneMsg  struct{}          // a connection ended while it drains
	drainMsg struct{ c *conn } // c's events are all handled: may it close?
	closeMsg struct{ c *conn } // close c: what was written to it is queued
)

// AcceptsWhileDraining says the runtime must deliver requests to the gate
// while it shuts down: the writes it drains come that way.
func (g *Gate) AcceptsWhileDraining() bool { return true }

// control runs one of the gate's control messages.
func (g *Gate) control(c *actor.Context, ctl any) {
	switch ctl := ctl.(type) {
	case goneMsg:
		g.checkDrained()
	case drainMsg:
		g.drainCheck(c, ctl.c)
	case closeMsg:
		if g.live(ctl.c) && ctl.c.inflight.Load() == 0 {
			ctl.c.close("gate shutting down")
		}
	}
}

// post posts ctl to the gate itself; it never blocks.
func (g *Gate) post(ctl any) {
	m := actor.NewMessage()
	m.Kind, m.Ctl = actor.Control, ctl
	_ = g.sys.Post(g.self, m)
}

// Shutdown stops accepting and drains every connection: it is closed
// once the requests it sent are answered and its queued writes are out;
// its service gets disconnect(id, "gate shutting down"). Connections
// still open at the shutdown deadline are closed hard. done runs when
// the last one is gone.
func (g *Gate) Shutdown(c *actor.Context, done func()) {
	g.stopAccepting()
	g.drainDone = done
	g.draining.Store(true)
	deadline := c.ShutdownDeadline()
	if deadline.IsZero() {
		deadline = time.Now().Add(5 * time.Second)
	}
	// Close hard a little before the root's deadline, so that the gate
	// still confirms in time.
	wait := time.Until(deadline)
	g.drainKill = time.AfterFunc(wait-wait/10, func() { g.killAll("shutdown deadline") })
	for _, cn := range g.snapshot() {
		cn.drain()
		g.drainCheck(c, cn)
	}
	g.checkDrained()
}

// drain stops the connection's message events: once it returns, none is
// posted any more.
func (c *conn) drain() {
	c.postMu.Lock()
	c.draining.Store(true)
	c.postMu.Unlock()
	if c.idle != nil {
		c.idle.Stop()
	}
}

// live reports that cn is still the gate's and nothing closed it.
func (g *Gate) live(cn *conn) bool { return g.conn(cn.id) == cn && cn.open() }

// drainCheck closes cn (through closeMsg) if its events are all handled
// and the services behind it are idle; while they are busy, it polls.
func (g *Gate) drainCheck(c *actor.Context, cn *conn) {
	if !g.draining.Load() || !g.live(cn) || cn.inflight.Load() != 0 {
		return // gone, or its last event's Done checks again
	}
	if !g.idle(cn, nil) {
		if g.busy == nil {
			g.busy = map[*conn]struct{}{}
		}
		g.busy[cn] = struct{}{}
		g.schedulePoll(c)
		return
	}
	g.post(closeMsg{cn})
}

// pollBusy looks again at the connections waiting for busy services.
func (g *Gate) pollBusy(c *actor.Context) {
	g.poll = 0
	seen := map[actor.Addr]bool{} // idle, by service, for this round
	for cn := range g.busy {
		switch {
		case !g.live(cn) || cn.inflight.Load() != 0:
			delete(g.busy, cn)
		case g.idle(cn, seen):
			delete(g.busy, cn)
			g.post(closeMsg{cn})
		}
	}
	if len(g.busy) > 0 {
		g.schedulePoll(c)
	}
}

func (g *Gate) schedulePoll(c *actor.Context) {
	if g.poll == 0 {
		g.poll = c.NewSession()
		c.After(pollEvery, g.poll)
	}
}

// idle reports that the services handling cn's events, its target and
// the watchdog, have no live task (a Go service never has one): nothing
// they still run can answer cn. seen caches the answers of one round.
func (g *Gate) idle(cn *conn, seen map[actor.Addr]bool) bool {
	cn.postMu.Lock()
	target := cn.target
	cn.postMu.Unlock()
	return g.serviceIdle(target, seen) && (target == g.opts.Watchdog || g.serviceIdle(g.opts.Watchdog, seen))
}

func (g *Gate) serviceIdle(a actor.Addr, seen map[actor.Addr]bool) bool {
	if idle, ok := seen[a]; ok {
		return idle
	}
	in, ok := g.sys.Info(a)
	idle := !ok || in.State == actor.Stopped || in.Tasks == 0
	if seen != nil {
		seen[a] = idle
	}
	return idle
}

// checkDrained confirms the shutdown once no connection is left.
func (g *Gate) checkDrained() {
	g.mu.Lock()
	n := len(g.conns)
	g.mu.Unlock()
	if n == 0 && g.drainDone != nil {
		g.drainKill.Stop()
		g.drainDone()
		g.drainDone = nil
	}
}
