// Package restart hands a running process's listening sockets to a new
// binary, in the spirit of nginx's binary upgrade and tableflip: the
// parent starts the child with the sockets of internal/listeners as
// extra descriptors, waits for the child to say it is ready, and only
// then stops serving. If the child fails or is slow, the parent kills it
// and goes on as if nothing happened.
//
// The child's side is Child: Upgraded tells whether it was started so,
// and Ready reports that it has booted. A supervisor (internal/supervise)
// starts its workers the same way, with Spawn: the sockets it holds in
// internal/listeners, and one more descriptor of its own.
package restart

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
)

// Environment variables of the hand-off: the inherited listeners (see
// internal/listeners), the write end of the readiness pipe, and the
// parent's own stderr (the child's stderr is a pipe to the parent until it
// is ready, then the parent's stderr again).
const (
	EnvListenFDs = listeners.EnvFDs
	EnvReadyFD   = "TERN_READY_FD"
	EnvStderrFD  = "TERN_STDERR_FD"
)

// DefaultTimeout is how long the parent waits for the child's readiness.
const DefaultTimeout = 30 * time.Second

// StderrLines is how many of the child's last stderr lines a failure
// reports.
const StderrLines = 20

// ErrBusy: an upgrade is already under way.
var ErrBusy = errors.New("restart: an upgrade is already under way")

// Options says how to start the new binary.
type Options struct {
	Binary  string        // the binary to start; "" for os.Executable()
	Args    []string      // its arguments, without argv[0]
	Dir     string        // its working directory; "" for ours
	Timeout time.Duration // how long to wait for readiness; 0 for DefaultTimeout
	Stderr  io.Writer     // where the child's stderr passes through until it is ready; nil for os.Stderr
	Env     []string      // more environment for the child (KEY=VALUE)
	// SysProcAttr, if set, starts the child so (a supervisor's workers
	// get their own process group and die with it).
	SysProcAttr *syscall.SysProcAttr
}

// Upgrader runs upgrades, one at a time.
type Upgrader struct {
	opts Options
	mu   sync.Mutex
	busy bool
}

// New makes an Upgrader.
func New(opts Options) *Upgrader {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	return &Upgrader{opts: opts}
}

// Begin claims the upgrader for one upgrade: it fails with ErrBusy while
// another runs. Run then does the upgrade, and the caller calls the
// returned done when it is over (whatever happened).
func (u *Upgrader) Begin() (done func(), err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.busy {
		return nil, ErrBusy
	}
	u.busy = true
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			u.busy = false
			u.mu.Unlock()
		})
	}, nil
}

// Failure is why a child did not become ready, with its last stderr lines.
type Failure struct {
	Reason string
	Stderr []string
	Code   int // the child's exit code when it exited by itself, else -1
}

func (f *Failure) Error() string {
	return "restart: the new process " + f.Reason
}

// Run starts the new binary with every registered listener and waits
// until it reports ready (it returns the child's PID), or until it
// fails, exits, the timeout passes or ctx ends: then the child is killed,
// and the error is a *Failure with its last stderr lines. Call Begin
// first.
func (u *Upgrader) Run(ctx context.Context) (pid int, err error) {
	p, err := u.Spawn(ctx, nil)
	if err != nil {
		return 0, err
	}
	return p.Pid, nil
}

// Extra is one more descriptor for the child, named to it by the
// environment variable Env (Env=FD).
type Extra struct {
	Env  string
	File *os.File
}

// Process is a child that reported ready.
type Process struct {
	Pid  int
	proc *os.Process
	done chan struct{}
	err  error
}

// Done is closed when the process has exited (and is reaped).
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (nil for exit status 0), once Done is
// closed.
func (p *Process) Err() error { <-p.done; return p.err }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.proc.Signal(sig) }

// ExitCode is the exit code of a process that ended with err (as
// os/exec's Wait returns it): 0 for nil, the status, or 128+N for death
// by signal N (as a shell says), -1 when unknown.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// Spawn is Run that also passes extra descriptors and returns the ready
// child, to wait for its end (a supervisor's worker).
func (u *Upgrader) Spawn(ctx context.Context, extra []Extra) (p *Process, err error) {
	bin := u.opts.Binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("restart: the binary: %w", err)
		}
	}
	files, names, err := listeners.Files()
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	defer closeAll(files)
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	defer readyR.Close()
	defer readyW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	defer errW.Close()
	stderrFile, _ := u.opts.Stderr.(*os.File)
	if stderrFile == nil {
		stderrFile = os.Stderr
	}

	// The sockets go to the child by number, read without File.Fd: Fd
	// makes a socket blocking, and with it every copy in every process
	// (one open file: O_NONBLOCK is shared), where a Go accept would then
	// block its thread, and a Close wait for the next connection. So no
	// os/exec, which calls Fd on each of its files.
	argv0 := bin
	if !strings.Contains(bin, "/") {
		if argv0, err = exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("restart: the binary: %w", err)
		}
	}
	fds := []uintptr{0, 1, errW.Fd()}
	for _, f := range files {
		fds = append(fds, rawFD(f))
	}
	fds = append(fds, readyW.Fd(), stderrFile.Fd())
	n := len(files)
	env := append(append(Environ(), u.opts.Env...),
		EnvListenFDs+"="+listeners.Spec(3, names),
		EnvReadyFD+"="+strconv.Itoa(3+n),
		EnvStderrFD+"="+strconv.Itoa(4+n),
	)
	for i, e := range extra {
		fds = append(fds, rawFD(e.File))
		env = append(env, e.Env+"="+strconv.Itoa(5+n+i))
	}
	ring := newRing(StderrLines)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		ring.copy(errR, u.opts.Stderr)
		errR.Close()
	}()
	pid, err := syscall.ForkExec(argv0, append([]string{bin}, u.opts.Args...), &syscall.ProcAttr{
		Dir: u.opts.Dir, Env: env, Files: fds, Sys: u.opts.SysProcAttr,
	})
	runtime.KeepAlive(extra) // their descriptors stay open until the fork
	if err != nil {
		errW.Close()
		return nil, fmt.Errorf("restart: start %s: %w", bin, err)
	}
	proc, err := os.FindProcess(pid)
	if err != nil { // not on Unix: it always finds one
		return nil, fmt.Errorf("restart: the new process %d: %w", pid, err)
	}
	// Ours are no longer needed: the child has its own.
	closeAll(files)
	files = nil
	readyW.Close()
	errW.Close()

	p = &Process{Pid: pid, proc: proc, done: make(chan struct{})}
	go func() {
		st, err := proc.Wait()
		if err == nil && !st.Success() {
			err = &exec.ExitError{ProcessState: st}
		}
		p.err = err
		close(p.done)
	}()
	got := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := io.ReadFull(readyR, b[:])
		got <- err
	}()
	timer := time.NewTimer(u.opts.Timeout)
	defer timer.Stop()
	fail := func(reason string) (*Process, error) {
		_ = proc.Kill() // a no-op when it has exited
		<-p.done
		select { // the child's stderr ends with it (bounded: a grandchild may hold it)
		case <-copied:
		case <-time.After(time.Second):
		}
		return nil, &Failure{Reason: reason, Stderr: ring.lines(), Code: -1}
	}
	exited := func() (*Process, error) {
		_, err := fail("exited before it was ready: " + describeExit(p.err))
		err.(*Failure).Code = ExitCode(p.err)
		return nil, err
	}
	select {
	case err := <-got:
		if err != nil {
			select {
			case <-p.done:
				return exited()
			case <-time.After(time.Second):
			}
			return fail("closed its readiness pipe without reporting ready")
		}
		return p, nil
	case <-p.done:
		return exited()
	case <-timer.C:
		return fail(fmt.Sprintf("was not ready within %v", u.opts.Timeout))
	case <-ctx.Done():
		return fail("was abandoned: " + ctx.Err().Error())
	}
}

func describeExit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// Environ is our environment without the hand-off's variables.
func Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == EnvListenFDs || k == EnvReadyFD || k == EnvStderrFD {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// ring keeps the last lines of a stream.
type ring struct {
	mu   sync.Mutex
	max  int
	buf  []string
	next int
	full bool
}

func newRing(n int) *ring { return &ring{max: n, buf: make([]string, n)} }

// copy passes r through to w, keeping its last lines (each cut to 1 KiB).
func (g *ring) copy(r io.Reader, w io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.Write(line)
			s := strings.TrimRight(string(line), "\r\n")
			if len(s) > 1024 {
				s = s[:1024] + "…"
			}
			g.mu.Lock()
			g.buf[g.next] = s
			g.next = (g.next + 1) % g.max
			g.full = g.full || g.next == 0
			g.mu.Unlock()
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (g *ring) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.full {
		return append([]string(nil), g.buf[:g.next]...)
	}
	return append(append([]string(nil), g.buf[g.next:]...), g.buf[:g.next]...)
}

// Child is the new process's side of an upgrade.
type Child struct {
	ready  *os.File // nil when not started by an upgrade
	stderr *os.File
}

// Inherit reads (once, at startup) how this process was started: with a
// readiness pipe and the parent's stderr, by an upgrade. The variables
// leave the environment; the descriptors become close-on-exec, as does
// every other descriptor above 2 this process inherited (on Linux).
func Inherit() (*Child, error) {
	closeOnExecAll()
	c := &Child{}
	var errs []error
	get := func(env string) *os.File {
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil
		}
		os.Unsetenv(env)
		fd, err := strconv.Atoi(v)
		if err != nil || fd < 3 {
			errs = append(errs, fmt.Errorf("restart: %s=%q: not a descriptor", env, v))
			return nil
		}
		closeOnExec(fd)
		return os.NewFile(uintptr(fd), env)
	}
	c.ready = get(EnvReadyFD)
	c.stderr = get(EnvStderrFD)
	if _, err := listeners.Inherit(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Upgraded says whether this process was started by an upgrade (it has a
// parent waiting for its readiness).
func (c *Child) Upgraded() bool { return c.ready != nil }

// Ready reports readiness to the parent: the inherited listeners nobody
// claimed are closed (their addresses are returned, for a log line), the
// parent's stderr becomes ours again, and one byte goes down the
// readiness pipe. Without a parent it does nothing.
func (c *Child) Ready() (unclaimed []string, err error) {
	unclaimed = listeners.CloseUnclaimed()
	if c.ready == nil {
		return unclaimed, nil
	}
	if c.stderr != nil {
		if err = redirectStderr(c.stderr); err != nil {
			err = fmt.Errorf("restart: stderr: %w", err)
		}
		c.stderr.Close()
		c.stderr = nil
	}
	if _, werr := c.ready.Write([]byte{1}); werr != nil {
		err = errors.Join(err, fmt.Errorf("restart: report ready: %w", werr))
	}
	c.ready.Close()
	c.ready = nil
	return unclaimed, err
}
