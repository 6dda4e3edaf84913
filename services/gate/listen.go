package gate

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/tern-dev/tern/internal/listeners"
)

// acceptor is the gate's listener, which pause holds back: while paused,
// nothing is accepted and new clients wait in the kernel's backlog.
type acceptor struct {
	ln *listeners.Listener

	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed by resume
	closed  chan struct{}
	once    sync.Once
}

func newAcceptor(ln *listeners.Listener) *acceptor {
	return &acceptor{ln: ln, closed: make(chan struct{})}
}

// Accept returns the next connection, once not paused. A failure the
// listener recovers from (too many open files) is retried with a pause.
func (a *acceptor) Accept() (net.Conn, error) {
	backoff := 5 * time.Millisecond
	for {
		a.mu.Lock()
		wait := a.resumed
		paused := a.paused
		a.mu.Unlock()
		if paused {
			select {
			case <-wait:
			case <-a.closed:
				return nil, net.ErrClosed
			}
			continue
		}
		nc, err := a.ln.Accept()
		if err == nil {
			return nc, nil
		}
		select {
		case <-a.closed:
			return nil, net.ErrClosed
		default:
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // pause interrupted the Accept
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-a.closed:
			t.Stop()
			return nil, net.ErrClosed
		}
		backoff = min(2*backoff, time.Second)
	}
}

// deadliner is what a TCP listener has to interrupt a blocked Accept.
type deadliner interface{ SetDeadline(time.Time) error }

// pause stops accepting; a blocked Accept returns.
func (a *acceptor) pause() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.paused {
		return
	}
	a.paused, a.resumed = true, make(chan struct{})
	if d, ok := a.ln.Listener.(deadliner); ok {
		_ = d.SetDeadline(time.Now())
	}
}

// resume accepts again.
func (a *acceptor) resume() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.paused {
		return
	}
	if d, ok := a.ln.Listener.(deadliner); ok {
		_ = d.SetDeadline(time.Time{})
	}
	a.paused = false
	close(a.resumed)
}

func (a *acceptor) isPaused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paused
}

// Close closes the listener.
func (a *acceptor) Close() error {
	var err error
	a.once.Do(func() {
		close(a.closed)
		err = a.ln.Close()
	})
	return err
}

// Addr is the address listened on.
func (a *acceptor) Addr() net.Addr { return a.ln.Addr() }

// serveStream accepts the connections of a stream protocol.
func (g *Gate) serveStream() {
	defer g.wg.Done()
	for {
		nc, err := g.acc.Accept()
		if err != nil {
			return
		}
		if !g.admit(nc.RemoteAddr()) {
			_ = nc.Close()
			continue
		}
		c := newConn(g, nc, nil, nc.RemoteAddr().String())
		if !g.add(c) {
			_ = nc.Close()
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			c.run()
		}()
	}
}

// serveHTTP runs the HTTP server of a WebSocket gate: the upgrade on the
// path, the static directory (if any) everywhere else.
func (g *Gate) serveHTTP() {
	defer g.wg.Done()
	mux := http.NewServeMux()
	mux.HandleFunc(g.opts.Path, g.upgrade)
	if g.opts.Static != "" {
		mux.Handle("/", http.FileServer(http.Dir(g.opts.Static)))
	}
	g.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		// The upgrade keeps the socket under the WebSocket, to close it
		// hard.
		ConnContext: func(ctx context.Context, nc net.Conn) context.Context {
			return context.WithValue(ctx, socketKey{}, nc)
		},
	}
	_ = g.srv.Serve(g.acc)
}

// upgrade turns one HTTP request into a WebSocket connection, and serves
// it on this goroutine.
func (g *Gate) upgrade(w http.ResponseWriter, r *http.Request) {
	if !g.admit(remoteAddr(r.RemoteAddr)) {
		http.Error(w, "gate is full", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		g.log.Warn("gate: bad websocket handshake, connection refused", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		return
	}
	ws.SetReadLimit(int64(g.opts.MaxFrame))
	nc, _ := r.Context().Value(socketKey{}).(net.Conn)
	c := newConn(g, nc, ws, r.RemoteAddr)
	if !g.add(c) {
		_ = ws.CloseNow()
		return
	}
	g.wg.Add(1)
	defer g.wg.Done()
	c.run()
}

// socketKey is the request context's key of the connection's socket.
type socketKey struct{}

type remoteAddr string

func (a remoteAddr) Network() string { return "tcp" }
func (a remoteAddr) String() string  { return string(a) }
