// Package gate is the network gate: one service owns a listener and every
// connection accepted on it, and business services never touch a socket.
// They get a connection's events as sends from the gate, and write to it
// by sending the gate "write": the writes to one connection go out in the
// order the gate received them, from one service or several.
//
// Every runtime registers it under the name "gate", so Lua starts one with
// tern.newservice("gate") and opens its listener with a call:
//
//	tern.call(gate, "open", {
//		listen = "127.0.0.1:8888",
//		protocol = "line",        -- "len16", "len32", "line" or "websocket"
//		watchdog = tern.self(),   -- gets connect, message and disconnect
//	})
//
// The options, the events, the commands, backpressure and shutdown are
// documented in README.md, section "The network gate".
//
// One goroutine reads each connection and one writes it; the service
// itself only queues frames, so it runs on the worker pool. A frame is
// decoded into the reader's buffer and copied once, into the pooled
// message that carries it to its service.
package gate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/ratelog"
)

// Gate is the gate service. Make one with New.
type Gate struct {
	dir string // where a relative static directory is found

	sys      *actor.System
	self     actor.Addr
	name     string
	log      *slog.Logger
	opts     Options
	inflight int32 // events of one connection that may wait unhandled
	acc      *acceptor
	srv      *http.Server
	wg       sync.WaitGroup // the acceptor, the readers and the writers

	mu    sync.Mutex
	conns map[uint64]*conn
	shut  bool // shutting down or stopped: accept no more

	draining  atomic.Bool
	drainDone func()
	drainKill *time.Timer
	busy      map[*conn]struct{} // draining, events handled, a target still busy
	poll      uint32             // the timer session polling busy, or 0
	ids       []uint64           // write_many's ids, reused
	warnings  ratelog.Limiter
	stats     stats
}

type stats struct {
	accepted, refused   atomic.Uint64
	bytesIn, bytesOut   atomic.Uint64
	framesIn, framesOut atomic.Uint64
	dropped             atomic.Uint64 // writes to connections already gone
}

// New makes a gate; dir is where a relative static directory is found.
func New(dir string) *Gate { return &Gate{dir: dir, conns: map[uint64]*conn{}} }

var (
	_ actor.Service = (*Gate)(nil)
	_ actor.Drainer = (*Gate)(nil)
)

// Init records who the gate is.
func (g *Gate) Init(c *actor.Context) error {
	g.sys, g.self, g.name, g.log = c.System(), c.Self(), c.Name(), c.Logger()
	return nil
}

// Receive runs one command.
func (g *Gate) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Control:
		g.control(c, m.Ctl)
		return
	case actor.Timer:
		if m.Session == g.poll && g.poll != 0 {
			g.pollBusy(c)
		}
		return
	case actor.Call, actor.Send:
	default:
		return
	}
	var res []any
	var err error
	switch m.Cmd {
	case "write":
		err = g.write(m.Data)
	case "write_many":
		err = g.writeMany(m.Data)
	case "broadcast":
		err = g.broadcast(m.Data)
	default:
		var args []any
		if args, err = pack.DecodeValues(m.Data); err == nil {
			res, err = g.command(m.Cmd, args)
		}
	}
	switch {
	case m.Kind == actor.Send && err != nil:
		c.Warn("gate: bad request", m.Cmd, "cmd", m.Cmd, "from", m.From.String(), "err", err)
	case m.Kind == actor.Send:
	case err != nil:
		c.Fail(m.From, m.Session, &actor.Error{Name: c.Name(), Addr: c.Self(), What: `call "` + m.Cmd + `"`, Err: actor.Raised(err.Error())})
	default:
		if err := c.Reply(m.From, m.Session, res...); err != nil {
			c.Fail(m.From, m.Session, err)
		}
	}
}

// command runs the commands off the hot path, from decoded arguments.
func (g *Gate) command(cmd string, args []any) ([]any, error) {
	switch cmd {
	case "open":
		return g.open(args)
	case "close":
		return nil, g.closeConn(args)
	case "forward":
		return nil, g.forward(args)
	case "start":
		return nil, g.start(args)
	case "stat":
		return []any{g.stat()}, nil
	case "pause", "resume":
		if g.acc == nil {
			return nil, errNotOpen
		}
		if cmd == "pause" {
			g.acc.pause()
		} else {
			g.acc.resume()
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w %q: the gate knows open, write, write_many, close, forward, start, broadcast, stat, pause and resume", actor.ErrNoCommand, cmd)
}

var errNotOpen = errors.New(`the gate is not open: call "open" first`)

// open starts listening, and returns the address listened on.
func (g *Gate) open(args []any) ([]any, error) {
	if g.acc != nil {
		return nil, fmt.Errorf("the gate is open already, on %s", g.acc.Addr())
	}
	if g.draining.Load() {
		return nil, fmt.Errorf("open: %w", actor.ErrShuttingDown)
	}
	o, err := parseOptions(args, g.dir)
	if err != nil {
		return nil, err
	}
	ln, err := listeners.Listen(o.Listen, fmt.Sprintf("%s(%s)", g.name, g.self))
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	g.opts, g.inflight = o, maxInflight(o.MaxFrame)
	g.acc = newAcceptor(ln)
	g.wg.Add(1)
	if o.Protocol == protoWebSocket {
		go g.serveHTTP()
	} else {
		go g.serveStream()
	}
	addr := ln.Addr().String()
	g.log.Info("gate: listening", "listen", addr, "protocol", o.Protocol.String(), "watchdog", o.Watchdog.String())
	return []any{addr}, nil
}

// admit says whether one more connection fits under max_conn.
func (g *Gate) admit(remote fmt.Stringer) bool {
	g.mu.Lock()
	n := len(g.conns)
	g.mu.Unlock()
	if n < g.opts.MaxConn {
		return true
	}
	g.stats.refused.Add(1)
	g.warnings.Warn(g.log, "gate: max_conn reached, connection refused", "max_conn", "remote", remote.String(), "max_conn", g.opts.MaxConn)
	return false
}

// add registers a new connection, unless the gate is closing.
func (g *Gate) add(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut {
		return false
	}
	g.conns[c.id] = c
	g.stats.accepted.Add(1)
	return true
}

// gone takes an ended connection out, and tells its service.
func (g *Gate) gone(c *conn) {
	g.mu.Lock()
	delete(g.conns, c.id)
	last := len(g.conns) == 0
	g.mu.Unlock()
	c.event("disconnect", nil)
	if last && g.draining.Load() {
		g.post(goneMsg{})
	}
}

func (g *Gate) conn(id uint64) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[id]
}

// write queues one frame to one connection: write(id, data).
func (g *Gate) write(data []byte) error {
	r := pack.NewReader(data)
	if n, err := r.Count(); err != nil || n != 2 {
		return argsError("write(id, data)", 2, n, err)
	}
	id, err := readID(&r, "id")
	if err != nil {
		return err
	}
	frame, err := g.readFrame(&r)
	if err != nil {
		return err
	}
	if c := g.conn(id); c == nil || !c.queue(frame) {
		g.stats.dropped.Add(1)
	}
	return nil
}

// writeMany queues one frame to several connections:
// write_many({id, ...}, data).
func (g *Gate) writeMany(data []byte) error {
	r := pack.NewReader(data)
	if n, err := r.Count(); err != nil || n != 2 {
		return argsError("write_many({id, ...}, data)", 2, n, err)
	}
	if k, err := r.Next(); err != nil || k != pack.KindTable {
		return fmt.Errorf("write_many: argument 1 must be a list of connection ids, got %v", kindOf(k, err))
	}
	g.ids = g.ids[:0]
	for i, n := 0, r.ArrayLen(); i < n; i++ {
		k, err := r.Next()
		if err != nil {
			return err
		}
		id, err := idValue(&r, k, fmt.Sprintf("ids[%d]", i+1))
		if err != nil {
			return fmt.Errorf("write_many: %w", err)
		}
		g.ids = append(g.ids, id)
	}
	if k, err := r.Next(); err != nil || k != pack.KindEnd {
		return fmt.Errorf("write_many: argument 1 must be a plain list of connection ids, without other keys")
	}
	frame, err := g.readFrame(&r)
	if err != nil {
		return err
	}
	for _, id := range g.ids {
		if c := g.conn(id); c == nil || !c.queue(frame) {
			g.stats.dropped.Add(1)
		}
	}
	return nil
}

// broadcast queues one frame to every connection: broadcast(data).
func (g *Gate) broadcast(data []byte) error {
	r := pack.NewReader(data)
	if n, err := r.Count(); err != nil || n != 1 {
		return argsError("broadcast(data)", 1, n, err)
	}
	frame, err := g.readFrame(&r)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.queue(frame)
	}
	return nil
}

// readFrame reads the data argument: a string that fits one frame.
func (g *Gate) readFrame(r *pack.Reader) ([]byte, error) {
	if g.acc == nil {
		return nil, errNotOpen
	}
	k, err := r.Next()
	if err != nil || k != pack.KindString {
		return nil, fmt.Errorf("data must be a string, got %v", kindOf(k, err))
	}
	frame := r.Str()
	if len(frame) > g.opts.MaxFrame {
		return nil, fmt.Errorf("data of %d bytes is over max_frame (%d)", len(frame), g.opts.MaxFrame)
	}
	if why := g.opts.Protocol.checkOut(frame); why != "" {
		return nil, errors.New(why)
	}
	return frame, nil
}

// closeConn closes a connection after its queued writes:
// close(id [, reason]). A connection already gone is no error.
func (g *Gate) closeConn(args []any) error {
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("close takes (id [, reason]), got %d arguments", len(args))
	}
	_, c, err := g.connArg("close", args)
	if err != nil {
		return err
	}
	reason := "closed by server"
	if len(args) == 2 && args[1] != nil {
		if reason, err = str(args[1]); err != nil {
			return fmt.Errorf("close: reason: %w", err)
		}
	}
	if c != nil {
		c.close(reason)
	}
	return nil
}

// connArg reads a command's connection id, args[0], and finds the
// connection: nil when it is gone.
func (g *Gate) connArg(cmd string, args []any) (uint64, *conn, error) {
	id, err := integer(args[0], 1, 1<<53)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: id: %w", cmd, err)
	}
	return uint64(id), g.conn(uint64(id)), nil
}

// forward sends a connection's events to agent: forward(id, agent).
func (g *Gate) forward(args []any) error {
	if len(args) != 2 {
		return fmt.Errorf("forward takes (id, agent), got %d arguments", len(args))
	}
	id, c, err := g.connArg("forward", args)
	if err != nil {
		return err
	}
	agent, err := integer(args[1], 1, 1<<48-1)
	if err != nil {
		return fmt.Errorf("forward: agent: %w", err)
	}
	if _, ok := g.sys.Lookup(actor.Addr(agent)); !ok {
		return fmt.Errorf("forward: agent %s: %w", actor.Addr(agent), actor.ErrNoService)
	}
	if c == nil {
		return fmt.Errorf("forward: no connection %d", id)
	}
	c.forward(actor.Addr(agent))
	return nil
}

// start lets the gate read a connection opened with forward_first whose
// watchdog handles its events itself: start(id).
func (g *Gate) start(args []any) error {
	if len(args) != 1 {
		return fmt.Errorf("start takes (id), got %d arguments", len(args))
	}
	id, c, err := g.connArg("start", args)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("start: no connection %d", id)
	}
	c.start()
	return nil
}

// stat is the gate's counters, as a table.
func (g *Gate) stat() map[string]any {
	g.mu.Lock()
	n, queued := len(g.conns), 0
	for _, c := range g.conns {
		queued += c.queued()
	}
	g.mu.Unlock()
	st := map[string]any{
		"connections":    int64(n),
		"accepted":       int64(g.stats.accepted.Load()),
		"refused":        int64(g.stats.refused.Load()),
		"bytes_in":       int64(g.stats.bytesIn.Load()),
		"bytes_out":      int64(g.stats.bytesOut.Load()),
		"frames_in":      int64(g.stats.framesIn.Load()),
		"frames_out":     int64(g.stats.framesOut.Load()),
		"queued_bytes":   int64(queued),
		"writes_dropped": int64(g.stats.dropped.Load()),
		"draining":       g.draining.Load(),
	}
	if g.acc != nil {
		st["listen"] = g.acc.Addr().String()
		st["protocol"] = g.opts.Protocol.String()
		st["paused"] = g.acc.isPaused()
	}
	return st
}

// Stopped closes whatever is left at once, and waits (a little) for the
// connections' goroutines to end.
func (g *Gate) Stopped(*actor.Context) {
	g.stopAccepting()
	if g.drainKill != nil {
		g.drainKill.Stop()
	}
	g.killAll("gate stopped")
	ended := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(ended)
	}()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-ended:
	case <-t.C:
		g.log.Warn("gate: connections still ending after the gate stopped")
	}
}

func (g *Gate) stopAccepting() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
	if g.acc != nil {
		_ = g.acc.Close()
	}
	if g.srv != nil {
		_ = g.srv.Close()
	}
}

func (g *Gate) killAll(reason string) {
	for _, c := range g.snapshot() {
		c.kill(reason)
	}
}

// snapshot lists the open connections, in id order.
func (g *Gate) snapshot() []*conn {
	g.mu.Lock()
	out := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		out = append(out, c)
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// readID reads a connection id argument.
func readID(r *pack.Reader, what string) (uint64, error) {
	k, err := r.Next()
	if err != nil {
		return 0, err
	}
	return idValue(r, k, what)
}

func idValue(r *pack.Reader, k pack.Kind, what string) (uint64, error) {
	switch k {
	case pack.KindInt:
		if i := r.Int(); i > 0 {
			return uint64(i), nil
		}
	case pack.KindFloat:
		if f := r.Float(); f >= 1 && f < 1<<53 && f == float64(uint64(f)) {
			return uint64(f), nil
		}
	}
	return 0, fmt.Errorf("%s must be a connection id (a positive integer), got %v", what, kindOf(k, nil))
}

func kindOf(k pack.Kind, err error) string {
	if err != nil {
		return err.Error()
	}
	switch k {
	case pack.KindInt, pack.KindFloat:
		return "a number"
	case pack.KindTable:
		return "a table"
	case pack.KindString:
		return "a string"
	case pack.KindBool:
		return "a boolean"
	}
	return "nil"
}

func argsError(sig string, want, n int, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", sig, err)
	}
	return fmt.Errorf("%s takes %d arguments, got %d", sig, want, n)
}
