package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/tern-dev/tern/internal/listeners"
)

// The supervisor and a worker share a socket pair (SOCK_SEQPACKET: one
// message a packet), the worker's end named by TERN_SUPERVISOR_FD:
//
//	worker → supervisor  "listen tcp:ADDR" + the socket (SCM_RIGHTS)
//	                     "ready tcp:ADDR ..." (the listeners it uses)
//	                     "restart" (answered "ok" or "refused REASON")
//	supervisor → worker  "drain" (a new worker is ready: shut down)

// EnvFD is the environment variable naming a worker's end of its socket.
const EnvFD = "TERN_SUPERVISOR_FD"

// ErrGone: the supervisor has closed its end (it exited).
var ErrGone = errors.New("supervise: the supervisor is gone")

// socketpair makes a supervisor's end and a worker's (to pass to it).
func socketpair() (*net.UnixConn, *os.File, error) {
	fds, err := rawSocketpair()
	if err != nil {
		return nil, nil, fmt.Errorf("supervise: socketpair: %w", err)
	}
	sf := os.NewFile(uintptr(fds[0]), "supervisor")
	c, err := net.FileConn(sf)
	sf.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, fmt.Errorf("supervise: socketpair: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "worker"), nil
}

// send writes one message, with f's descriptor if f is not nil. It
// never calls f.Fd, which would make a socket blocking in every process
// that shares it.
func send(c *net.UnixConn, msg string, f *os.File) error {
	var err error
	if f == nil {
		_, _, err = c.WriteMsgUnix([]byte(msg), nil, nil)
	} else {
		var rc syscall.RawConn
		if rc, err = f.SyscallConn(); err == nil {
			cerr := rc.Control(func(fd uintptr) {
				_, _, err = c.WriteMsgUnix([]byte(msg), syscall.UnixRights(int(fd)), nil)
			})
			err = errors.Join(err, cerr)
		}
	}
	if err != nil {
		return fmt.Errorf("supervise: send %q: %w", msg, err)
	}
	return nil
}

// recv reads one message and the descriptor it carries, if any (close-on-
// exec); io.EOF when the other end is closed.
func recv(c *net.UnixConn) (msg string, f *os.File, err error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return "", nil, err
	}
	if n == 0 && oobn == 0 {
		return "", nil, io.EOF
	}
	var fds []int
	if oobn > 0 {
		scms, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return "", nil, fmt.Errorf("supervise: receive: %w", err)
		}
		for _, scm := range scms {
			if got, err := syscall.ParseUnixRights(&scm); err == nil {
				fds = append(fds, got...)
			}
		}
	}
	for i, fd := range fds {
		if i == 0 {
			syscall.CloseOnExec(fd)
			f = os.NewFile(uintptr(fd), "received")
		} else {
			syscall.Close(fd) // one a message
		}
	}
	if flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) != 0 {
		if f != nil {
			f.Close()
		}
		return "", nil, fmt.Errorf("supervise: receive: a message cut short (flags %#x)", flags)
	}
	return string(buf[:n]), f, nil
}

// Worker is a supervised worker's link to its supervisor.
type Worker struct {
	c       *net.UnixConn
	reqMu   sync.Mutex  // one restart request at a time
	answers chan string // answers to restart
	gone    chan struct{}

	mu      sync.Mutex
	onDrain func()
	drain   bool // asked before onDrain was set
}

// Connect reads TERN_SUPERVISOR_FD, once at startup: nil when this
// process is no supervised worker. The variable leaves the environment,
// and the descriptor becomes close-on-exec.
func Connect() (*Worker, error) {
	v, ok := os.LookupEnv(EnvFD)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(EnvFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("supervise: %s=%q: not a descriptor", EnvFD, v)
	}
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), EnvFD)
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("supervise: %s=%d: %w", EnvFD, fd, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("supervise: %s=%d: a %T, not a unix socket", EnvFD, fd, c)
	}
	w := &Worker{c: uc, answers: make(chan string, 1), gone: make(chan struct{})}
	go w.read()
	return w, nil
}

func (w *Worker) read() {
	defer close(w.gone)
	for {
		msg, f, err := recv(w.c)
		if f != nil {
			f.Close()
		}
		if err != nil {
			return
		}
		switch {
		case msg == "drain":
			w.mu.Lock()
			f := w.onDrain
			w.drain = f == nil
			w.mu.Unlock()
			if f != nil {
				go f()
			}
		case msg == "ok" || strings.HasPrefix(msg, "refused "):
			select {
			case w.answers <- msg:
			default:
			}
		}
	}
}

// Listen hands the listener l to the supervisor, which holds it while
// workers come and go (listeners.OnListen calls it).
func (w *Worker) Listen(l *listeners.Listener) error {
	f, err := l.File()
	if err != nil {
		return fmt.Errorf("supervise: hand %s to the supervisor: %w", l.Addr(), err)
	}
	defer f.Close()
	return send(w.c, "listen "+l.Name(), f)
}

// Ready tells the supervisor the listeners this worker uses (names as
// listeners.Names gives them), just before it reports ready: the
// supervisor stops holding the others.
func (w *Worker) Ready(names []string) error {
	return send(w.c, strings.TrimSpace("ready "+strings.Join(names, " ")), nil)
}

// Restart asks the supervisor for a graceful restart: nil once it has
// begun, or why it was refused.
func (w *Worker) Restart(ctx context.Context) error {
	w.reqMu.Lock()
	defer w.reqMu.Unlock()
	select { // an answer left from a request that gave up
	case <-w.answers:
	default:
	}
	if err := send(w.c, "restart", nil); err != nil {
		return err
	}
	select {
	case a := <-w.answers:
		if a == "ok" {
			return nil
		}
		return errors.New(strings.TrimPrefix(a, "refused "))
	case <-w.gone:
		return ErrGone
	case <-ctx.Done():
		return fmt.Errorf("supervise: restart: no answer from the supervisor: %w", ctx.Err())
	}
}

// OnDrain sets what runs (once) when the supervisor asks this worker to
// shut down because a new worker is ready.
func (w *Worker) OnDrain(f func()) {
	var once sync.Once
	f1 := func() { once.Do(f) }
	w.mu.Lock()
	w.onDrain = f1
	pending := w.drain
	w.mu.Unlock()
	if pending {
		go f1()
	}
}
