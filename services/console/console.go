// Package console is tern's debug console, after skynet's: a line
// protocol over TCP that works with nc and telnet. Each line is a command
// and its arguments; the reply is the command's output lines, then a line
// `<CMD OK>` or `<CMD Error>` (after a one-line reason). A bad command
// leaves the connection usable; a line over 64 KiB closes it.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/root"
)

// MaxLine is the longest line the console reads, newline included; a
// longer one closes its connection.
const MaxLine = 64 << 10

// Timeout bounds each command that waits on a service (call, ping,
// reload, stop, start).
const Timeout = 30 * time.Second

// Server is a running console.
type Server struct {
	rt  *root.Runtime
	cfg root.ConsoleConfig
	ln  net.Listener

	ctx    context.Context // ends at Close: commands in flight give up
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// Start listens on cfg.Listen and serves the console for rt until Close,
// or until rt ends.
func Start(rt *root.Runtime, cfg root.ConsoleConfig) (*Server, error) {
	if cfg.Listen == "" {
		return nil, errors.New("console: no listen address")
	}
	ln, err := listeners.Listen(cfg.Listen, "console")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{rt: rt, cfg: cfg, ln: ln, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	go func() {
		select {
		case <-rt.Done():
			s.Close()
		case <-ctx.Done():
		}
	}()
	rt.Logger().Info("console listening", "addr", s.Addr())
	if !loopback(ln.Addr()) {
		rt.Logger().Warn("console: listening beyond loopback; the console has no authentication", "addr", s.Addr())
	}
	return s, nil
}

// loopback reports whether a is a loopback address.
func loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Addr is the address the console listens on ("127.0.0.1:8701").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every open connection, and waits for
// their goroutines.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.err = s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
	})
	return s.err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// session is one connection.
type session struct {
	s     *Server
	w     *bufio.Writer
	trace string // the trace tag of this command's calls (trace X CMD)
}

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReaderSize(c, MaxLine)
	ss := &session{s: s, w: bufio.NewWriter(c)}
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			ss.w.WriteString(fmt.Sprintf("line longer than %d bytes: closing\n<CMD Error>\n", MaxLine))
			ss.w.Flush()
			drain(c)
			return
		}
		if err != nil && (len(line) == 0 || !errors.Is(err, io.EOF)) {
			return
		}
		ss.run(string(line))
		if ss.w.Flush() != nil || err != nil {
			return
		}
	}
}

// drain ends the connection gently after a refused line: it closes
// the write side, then reads (for at most a second and 1 MiB) what the
// client still sends, so that closing does not reset the connection
// before the client has read the reason.
func drain(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c, 1<<20))
}

// run runs one line and writes its reply.
func (ss *session) run(line string) {
	cmd, args, err := parseLine(line)
	if err == nil && cmd == "" {
		return // a blank line, as skynet: no reply
	}
	if err == nil {
		f, ok := commands[strings.ToLower(cmd)]
		if !ok {
			err = fmt.Errorf("unknown command %q (try help)", cmd)
		} else {
			err = f(ss, args)
		}
	}
	if err != nil {
		ss.line(oneLine(err.Error()))
		ss.w.WriteString("<CMD Error>\n")
		return
	}
	ss.w.WriteString("<CMD OK>\n")
}

// line writes one output line.
func (ss *session) line(s string) {
	ss.w.WriteString(s)
	ss.w.WriteByte('\n')
}

func (ss *session) printf(format string, a ...any) { ss.line(oneLine(fmt.Sprintf(format, a...))) }

// oneLine flattens s to a single line, so that no output line can read
// as the reply's end.
func oneLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r\n", " | ", "\n", " | ", "\r", " | ").Replace(s)
	}
	return s
}

// timeout is the context a command that waits runs under.
func (ss *session) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(ss.s.ctx, Timeout)
}
