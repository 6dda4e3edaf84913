package gate

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
)

// lastID numbers connections for the whole process, across gates: an id
// is never reused.
var lastID atomic.Uint64

// linger bounds how long a connection closed by the server waits for its
// peer to close after the last write, before it is closed hard.
const linger = 2 * time.Second

// conn is one client connection. One goroutine reads it (read or readWS)
// and one writes it (write); the gate service only queues frames. What
// they share is under mu, or atomic.
type conn struct {
	g      *Gate
	id     uint64
	remote string
	nc     net.Conn        // the socket (for a WebSocket, the one under it)
	ws     *websocket.Conn // the WebSocket, or nil for a stream protocol
	ctx    context.Context // ends when the connection is killed
	cancel context.CancelFunc

	// Who gets the events: the watchdog, or an agent. An event is posted
	// under postMu, which forward takes too: once the gate has handled a
	// forward, every later event goes to the agent, and every earlier one
	// is already in the watchdog's mailbox.
	postMu sync.Mutex
	target actor.Addr
	// started is closed when the connection may be read: at once, or
	// with forward_first, on forward or start.
	started   chan struct{}
	startOnce sync.Once

	// Events posted and not yet handled, and the reader's wait for them
	// to fall below the gate's bound (backpressure).
	inflight atomic.Int32
	blocked  atomic.Bool
	resume   chan struct{}
	handled  func() // c.eventHandled, made once: set as each event's Done
	// draining: the gate shuts down. Set under postMu, so that once it is
	// set no message event is posted any more: inflight only falls, and
	// its fall to 0 asks the gate to close the connection (drain.go).
	draining atomic.Bool

	idle *time.Timer // closes the connection after IdleTimeout without input

	mu      sync.Mutex
	out     []byte        // framed bytes queued for the writer
	free    []byte        // the writer's last buffer, for reuse
	wake    chan struct{} // wakes the writer
	closing atomic.Bool   // close once out is flushed (set under mu; read by the reader without it)
	reason  string        // why it closed; the first reason stays
	dead    chan struct{} // closed by kill
}

func newConn(g *Gate, nc net.Conn, ws *websocket.Conn, remote string) *conn {
	c := &conn{
		g:      g,
		id:     lastID.Add(1),
		remote: remote,
		nc:     nc,
		ws:     ws,
		resume: make(chan struct{}, 1),
		wake:   make(chan struct{}, 1),
		dead:   make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.handled = c.eventHandled
	c.target = g.opts.Watchdog
	c.started = make(chan struct{})
	if !g.opts.ForwardFirst {
		c.start()
	}
	if d := g.opts.IdleTimeout; d > 0 {
		c.idle = time.AfterFunc(d, c.idleFired)
	}
	return c
}

// run serves the connection: it starts the writer, reads on the calling
// goroutine until the connection ends, and then tells the gate.
func (c *conn) run() {
	c.g.wg.Add(1)
	go func() {
		defer c.g.wg.Done()
		c.write()
	}()
	if c.event("connect", nil) && c.waitStart() {
		if c.ws != nil {
			c.readWS()
		} else {
			c.read()
		}
	}
	c.kill("")
	if c.idle != nil {
		c.idle.Stop()
	}
	c.g.gone(c)
}

// start lets the reader read.
func (c *conn) start() { c.startOnce.Do(func() { close(c.started) }) }

// waitStart waits until the connection may be read; false if it ended.
func (c *conn) waitStart() bool {
	select {
	case <-c.started:
		return true
	case <-c.dead:
		return false
	}
}

// forward sends the connection's later events to agent, and starts it.
func (c *conn) forward(agent actor.Addr) {
	c.postMu.Lock()
	c.target = agent
	c.postMu.Unlock()
	c.start()
}

// kill closes the connection now, with reason unless one was given
// before. Its reader and writer end.
func (c *conn) kill(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	select {
	case <-c.dead:
		c.mu.Unlock()
		return
	default:
	}
	close(c.dead)
	c.mu.Unlock()
	c.cancel()
	// A WebSocket's socket is closed first: CloseNow during a close
	// handshake (finish) would wait for the handshake, not end it.
	if c.nc != nil {
		_ = c.nc.Close()
	}
	if c.ws != nil {
		_ = c.ws.CloseNow()
	}
}

// close closes the connection once its queued writes are out.
func (c *conn) close(reason string) {
	c.mu.Lock()
	if c.closing.Swap(true) {
		c.mu.Unlock()
		return
	}
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	c.signal()
}

// why is the reason the connection ended: the one it was closed with,
// or what its reader met.
func (c *conn) why(err error) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.reason != "":
		return c.reason
	case errors.Is(err, io.EOF), websocket.CloseStatus(err) == websocket.StatusNormalClosure, websocket.CloseStatus(err) == websocket.StatusGoingAway:
		return "closed by peer"
	case err != nil:
		return err.Error()
	}
	return "closed"
}

// open reports that nothing closed the connection yet.
func (c *conn) open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason == "" && !c.closing.Load()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// queue adds one frame to the send queue. Past the send buffer the
// client is too slow: it is cut off. It reports whether the frame was
// queued.
func (c *conn) queue(data []byte) bool {
	p := c.g.opts.Protocol
	c.mu.Lock()
	if c.closing.Load() || c.reason != "" {
		c.mu.Unlock()
		return false
	}
	if len(c.out)+p.header(len(data))+len(data) > c.g.opts.SendBuffer {
		queued := len(c.out)
		c.mu.Unlock()
		c.g.log.Warn("gate: slow consumer cut off", "conn", c.id, "remote", c.remote, "queued", queued, "send_buffer", c.g.opts.SendBuffer)
		c.kill("slow consumer")
		return false
	}
	first := len(c.out) == 0
	c.out = p.appendFrame(c.out, data)
	c.mu.Unlock()
	c.g.stats.framesOut.Add(1)
	if first {
		c.signal()
	}
	return true
}

// queued is the bytes waiting for the writer.
func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out)
}

// maxKeep is the largest send buffer a writer keeps for reuse.
const maxKeep = 256 << 10

// write is the writer goroutine: it sends what is queued, all of it in
// one system call for a stream protocol, and closes the connection once
// a close was asked and the queue is empty.
func (c *conn) write() {
	for {
		c.mu.Lock()
		for len(c.out) == 0 {
			closing := c.closing.Load()
			c.mu.Unlock()
			if closing {
				c.finish()
				return
			}
			select {
			case <-c.wake:
			case <-c.dead:
				return
			}
			c.mu.Lock()
		}
		buf := c.out
		c.out, c.free = c.free[:0], nil
		c.mu.Unlock()

		var err error
		if c.ws != nil {
			err = c.sendMessages(buf)
		} else {
			_, err = c.nc.Write(buf)
		}
		if err != nil {
			c.kill("write failed: " + err.Error())
			return
		}
		c.g.stats.bytesOut.Add(uint64(len(buf)))
		if cap(buf) <= maxKeep {
			c.mu.Lock()
			c.free = buf[:0]
			c.mu.Unlock()
		}
	}
}

// sendMessages sends each frame queued in buf as one WebSocket message.
func (c *conn) sendMessages(buf []byte) error {
	typ := websocket.MessageBinary
	if c.g.opts.Text {
		typ = websocket.MessageText
	}
	for len(buf) >= 4 {
		n := binary.BigEndian.Uint32(buf)
		if err := c.ws.Write(c.ctx, typ, buf[4:4+n]); err != nil {
			return err
		}
		buf = buf[4+n:]
	}
	return nil
}

// finish ends a connection the server closed, its writes all out: the
// peer is told (a FIN, or a WebSocket close) and given linger to close
// its side before the socket is closed hard.
func (c *conn) finish() {
	reason := c.why(nil)
	if c.ws != nil {
		ctx, cancel := context.WithTimeout(c.ctx, linger)
		go func() {
			<-ctx.Done()
			c.kill(reason)
		}()
		_ = c.ws.Close(websocket.StatusNormalClosure, truncate(reason, 120))
		cancel()
		return
	}
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		t := time.NewTimer(linger)
		select {
		case <-c.dead:
		case <-t.C:
		}
		t.Stop()
	}
	c.kill(reason)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// maxInflight is how many events of one connection may wait to be
// handled: for frames of max_frame bytes, about 1 MB of them.
func maxInflight(maxFrame int) int32 {
	return int32(min(max(1<<20/maxFrame, 4), 128))
}

// eventHandled is each event's Done: the receiver is done with it.
func (c *conn) eventHandled() {
	n := c.inflight.Add(-1)
	if n < c.g.inflight && c.blocked.Load() {
		select {
		case c.resume <- struct{}{}:
		default:
		}
	}
	if n == 0 && c.draining.Load() {
		c.g.post(drainMsg{c})
	}
}

// event posts one event to the connection's target, waiting first while
// too many of its events are unhandled: the reader stops reading, and
// TCP flow control slows the client. data is the frame of a message.
// It reports false when the connection ended meanwhile. A message event
// of a draining connection is dropped: the server no longer takes
// requests on it.
func (c *conn) event(cmd string, data []byte) bool {
	if cmd == "message" && c.draining.Load() {
		return true
	}
	for cmd != "disconnect" && c.inflight.Load() >= c.g.inflight {
		c.blocked.Store(true)
		if c.inflight.Load() >= c.g.inflight {
			select {
			case <-c.resume:
			case <-c.dead:
				c.blocked.Store(false)
				return false
			}
		}
		c.blocked.Store(false)
	}
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 100*time.Millisecond) {
		m := actor.NewMessage()
		m.Kind, m.From, m.Cmd = actor.Send, c.g.self, cmd
		m.Data = pack.AppendCount(m.Data[:0], 2)
		m.Data = pack.AppendInt(m.Data, int64(c.id))
		switch cmd {
		case "connect":
			m.Data = pack.AppendString(m.Data, c.remote)
		case "disconnect":
			m.Data = pack.AppendString(m.Data, c.why(nil))
		default:
			m.Data = pack.AppendBytes(m.Data, data)
		}
		c.postMu.Lock()
		if cmd == "message" && c.draining.Load() {
			c.postMu.Unlock()
			m.Release()
			return true
		}
		m.Done = c.handled
		c.inflight.Add(1)
		to := c.target
		err := c.g.sys.Post(to, m)
		c.postMu.Unlock()
		if err == nil {
			return true
		}
		if cmd == "disconnect" {
			c.g.log.Debug("gate: disconnect event not delivered", "conn", c.id, "to", to.String(), "err", err)
			return false
		}
		if !errors.Is(err, actor.ErrOverload) {
			c.g.log.Warn("gate: connection closed: its events have nowhere to go", "conn", c.id, "remote", c.remote, "to", to.String(), "err", err)
			c.kill("event target gone: " + err.Error())
			return false
		}
		t := time.NewTimer(backoff) // the target's mailbox is full: wait, without reading
		select {
		case <-t.C:
		case <-c.dead:
			t.Stop()
			return false
		}
	}
}

// idleFired closes a connection that sent nothing for IdleTimeout. A
// reader held back by its unhandled events is not idle, nor is a
// draining connection: it waits for the server's answers, not for input.
func (c *conn) idleFired() {
	if c.draining.Load() {
		return
	}
	if c.blocked.Load() {
		c.idle.Reset(c.g.opts.IdleTimeout)
		return
	}
	c.g.log.Info("gate: idle connection closed", "conn", c.id, "remote", c.remote, "idle_timeout", c.g.opts.IdleTimeout)
	c.kill("idle timeout")
}

// active restarts the idle timer: input arrived.
func (c *conn) active() {
	if c.idle != nil {
		c.idle.Reset(c.g.opts.IdleTimeout)
	}
}

// readChunk is a reader's first buffer; it grows for larger frames up to
// max_frame, and shrinks back once they have passed.
const readChunk = 2048

// read is the reader of a stream protocol: it cuts frames out of what
// arrives and posts each as one message event.
func (c *conn) read() {
	p, maxFrame := c.g.opts.Protocol, c.g.opts.MaxFrame
	buf := make([]byte, readChunk)
	r, w := 0, 0
	for {
		for r < w {
			frame, n, err := p.split(buf[r:w], maxFrame)
			if err != nil {
				c.g.log.Warn("gate: bad input, connection closed", "conn", c.id, "remote", c.remote, "err", err)
				c.kill(err.Error())
				return
			}
			if n == 0 {
				break
			}
			c.g.stats.framesIn.Add(1)
			if !c.isClosingFast() && !c.event("message", frame) {
				return
			}
			r += n
		}
		switch {
		case r == w:
			r, w = 0, 0
			if len(buf) > 64<<10 {
				buf = make([]byte, readChunk)
			}
		case w == len(buf) && r > 0:
			w = copy(buf, buf[r:w])
			r = 0
		case w == len(buf):
			grown := make([]byte, min(2*len(buf), maxFrame+p.header(maxFrame)+1))
			w = copy(grown, buf[r:w])
			r, buf = 0, grown
		}
		n, err := c.nc.Read(buf[w:])
		if n > 0 {
			w += n
			c.g.stats.bytesIn.Add(uint64(n))
			c.active()
		}
		if err != nil {
			if r < w && !errors.Is(err, net.ErrClosed) && c.open() {
				c.g.log.Warn("gate: connection closed inside a frame", "conn", c.id, "remote", c.remote, "bytes", w-r)
				c.kill("broken frame: connection closed inside a frame")
			}
			c.kill(c.why(err))
			return
		}
	}
}

// isClosingFast reports, without the lock, that the connection was
// killed or a close was asked: frames arriving after it are dropped.
func (c *conn) isClosingFast() bool {
	select {
	case <-c.dead:
		return true
	default:
	}
	return c.closing.Load()
}

// readWS is the reader of a WebSocket: each message is one frame.
func (c *conn) readWS() {
	maxFrame := c.g.opts.MaxFrame
	buf := make([]byte, readChunk)
	for {
		_, r, err := c.ws.Reader(c.ctx)
		if err != nil {
			c.kill(c.why(err))
			return
		}
		n := 0
		for {
			if n == len(buf) {
				// The buffer holds max_frame+2 bytes at most: the read
				// limit (max_frame+1) reports a bigger message, when
				// the reader asks for its byte past max_frame+1.
				grown := make([]byte, min(2*len(buf), maxFrame+2))
				copy(grown, buf[:n])
				buf = grown
			}
			k, err := r.Read(buf[n:])
			n += k
			if n > maxFrame && (err == io.EOF || n > maxFrame+1) {
				err = websocket.ErrMessageTooBig // the read limit says it first, in practice
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				reason := err.Error()
				if errors.Is(err, websocket.ErrMessageTooBig) {
					reason = tooLarge(n, maxFrame).Error()
					c.g.log.Warn("gate: bad input, connection closed", "conn", c.id, "remote", c.remote, "err", reason)
				}
				c.kill(reason)
				return
			}
		}
		c.g.stats.bytesIn.Add(uint64(n))
		c.g.stats.framesIn.Add(1)
		c.active()
		if !c.isClosingFast() && !c.event("message", buf[:n]) {
			return
		}
		if len(buf) > 64<<10 {
			buf = make([]byte, readChunk)
		}
	}
}
