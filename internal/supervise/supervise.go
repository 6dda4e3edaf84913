// Package supervise keeps a tern worker running (`tern run --supervise`).
// The supervisor starts the worker as a graceful restart starts a new
// binary (internal/restart: inherited listeners, readiness pipe), and
// holds every listener the worker opens: the worker hands each to it over
// a socket pair (see wire.go). When the worker crashes, the sockets stay
// open in the supervisor, so the kernel queues new connections until the
// next worker, started after a backoff, accepts them: no client is
// refused.
//
// The restart signal makes the supervisor start a new worker, wait for
// its readiness, and only then tell the old one to drain, so the
// supervisor's PID stays. SIGINT or SIGTERM is passed to the worker, and
// the supervisor exits with the worker's code. A worker that exits 0 (a
// shutdown it was asked for) is not restarted.
package supervise

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/internal/restart"
)

// Backoff after a crash: MinBackoff, doubling to MaxBackoff; a worker up
// Stable resets it.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 30 * time.Second
	Stable     = 10 * time.Second
)

// ExitBoot is the supervisor's exit code when its first worker fails to
// boot without an exit code of its own (it was killed at the timeout).
const ExitBoot = 1

// Errors of a restart request.
var (
	ErrBusy     = errors.New("supervise: restart: a new worker is already starting")
	ErrStopping = errors.New("supervise: restart: the supervisor is stopping")
	ErrNoWorker = errors.New("supervise: restart: no worker runs (one starts after a crash)")
)

// Options says how to run workers.
type Options struct {
	Worker        restart.Options // binary, arguments, directory, readiness timeout
	RestartSignal os.Signal       // a graceful restart
	Log           *slog.Logger
}

// worker is one worker process, from its start.
type worker struct {
	conn    *net.UnixConn // its socket pair, our end
	p       *restart.Process
	readyAt time.Time
	retired atomic.Bool   // told to drain (or to stop while starting)
	drained chan struct{} // its messages are all read

	// mu makes "this worker uses these listeners" and the registry agree:
	// what the worker hands over is recorded and held in one step, and
	// the supervisor drops the others in one step.
	mu        sync.Mutex
	listening map[string]bool // its ready list, and what it opened since
}

// adopt holds a listener the worker handed over.
func (w *worker) adopt(f *os.File, name string) (added bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.listening == nil {
		w.listening = map[string]bool{}
	}
	w.listening[name] = true
	return listeners.Adopt(f, name, "supervisor")
}

// ready records the listeners the worker uses as it gets ready, and
// unless it is retired, drops the others: the new config no longer
// listens there.
func (w *worker) ready(names []string) (closed []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.listening = map[string]bool{}
	for _, n := range names {
		w.listening[n] = true
	}
	if w.retired.Load() {
		return nil
	}
	return listeners.Keep(names)
}

// keepMine drops every held listener this worker does not use.
func (w *worker) keepMine() (closed []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.listening))
	for n := range w.listening {
		names = append(names, n)
	}
	return listeners.Keep(names)
}

type started struct {
	w   *worker
	why string
	err error
}

type supervisor struct {
	opts     Options
	log      *slog.Logger
	up       *restart.Upgrader
	cur      *worker          // the serving worker
	old      map[*worker]bool // draining
	cancel   context.CancelFunc
	stopping bool
	code     int
	backoff  time.Duration
	retry    <-chan time.Time

	started  chan started
	exits    chan *worker
	requests chan *worker
	done     chan struct{}
}

// Run supervises workers until SIGINT or SIGTERM arrives on sigs (the
// worker gets it and the supervisor exits with its code), a worker exits
// 0, or the first worker fails to boot. sigs also carries the restart
// signal.
func Run(opts Options, sigs <-chan os.Signal) int {
	opts.Worker.SysProcAttr = workerAttr()
	s := &supervisor{
		opts: opts, log: opts.Log, up: restart.New(opts.Worker),
		old: map[*worker]bool{}, backoff: MinBackoff,
		started: make(chan started), exits: make(chan *worker), requests: make(chan *worker),
		done: make(chan struct{}),
	}
	defer close(s.done)
	s.start("first")
	for !s.stopping || s.cur != nil || len(s.old) > 0 || s.cancel != nil {
		select {
		case sig := <-sigs:
			s.signal(sig)
		case r := <-s.started:
			s.onStarted(r)
		case w := <-s.exits:
			s.onExit(w)
		case w := <-s.requests:
			answer := "ok"
			if w.retired.Load() {
				answer = "refused " + ErrStopping.Error()
			} else if err := s.restart(); err != nil {
				answer = "refused " + err.Error()
			}
			if err := send(w.conn, answer, nil); err != nil {
				s.log.Warn("supervise: answer a restart request", "err", err)
			}
		case <-s.retry:
			s.retry = nil
			s.start("crash")
		}
	}
	return s.code
}

// start starts a worker in the background; why is "first", "restart" or
// "crash". It reports on s.started.
func (s *supervisor) start(why string) {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		sc, wf, err := socketpair()
		if err != nil {
			report(s, s.started, started{why: why, err: err})
			return
		}
		w := &worker{conn: sc, drained: make(chan struct{})}
		go s.read(w) // the worker hands its listeners while it boots
		w.p, err = s.up.Spawn(ctx, []restart.Extra{{Env: EnvFD, File: wf}})
		wf.Close()
		if err != nil {
			w.waitRead() // it is dead: what it handed over is held before the loop hears
			report(s, s.started, started{why: why, err: err})
			return
		}
		report(s, s.started, started{w: w, why: why}) // before its exit, whenever it comes
		go func() {
			<-w.p.Done()
			w.waitRead()
			report(s, s.exits, w)
		}()
	}()
}

// waitRead waits until the dead worker's messages are all read (a
// listener it just opened), for 2 s at most.
func (w *worker) waitRead() {
	select {
	case <-w.drained:
	case <-time.After(2 * time.Second):
	}
}

// report sends an event to the loop, unless Run has returned.
func report[T any](s *supervisor, ch chan<- T, ev T) {
	select {
	case ch <- ev:
	case <-s.done:
	}
}

// read handles a worker's messages until it is gone.
func (s *supervisor) read(w *worker) {
	defer close(w.drained)
	defer w.conn.Close()
	for {
		msg, f, err := recv(w.conn)
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(msg, " ")
		switch verb {
		case "listen":
			if f == nil {
				s.log.Warn("supervise: a listener without its socket", "listen", arg)
				continue
			}
			added, err := w.adopt(f, arg)
			if err != nil {
				s.log.Error("supervise: hold a listener", "err", err)
			} else if added {
				s.log.Info("supervise: holding a listener", "listen", arg)
			}
			continue
		case "ready":
			for _, name := range w.ready(strings.Fields(arg)) {
				s.log.Info("supervise: the worker no longer listens here: closed", "listen", name)
			}
		case "restart":
			report(s, s.requests, w)
		default:
			s.log.Warn("supervise: an unknown message from the worker", "msg", msg)
		}
		if f != nil {
			f.Close()
		}
	}
}

// signal handles a signal to the supervisor.
func (s *supervisor) signal(sig os.Signal) {
	if sig == s.opts.RestartSignal {
		if err := s.restart(); err != nil {
			s.log.Warn("restart refused", "signal", sig.String(), "err", err)
		}
		return
	}
	if !s.stopping {
		s.log.Info("supervise: stopping the worker", "signal", sig.String())
	}
	s.stopping, s.retry = true, nil
	if s.cancel != nil {
		s.cancel() // a worker starting is killed
	}
	if s.cur != nil {
		if err := s.cur.p.Signal(sig); err != nil {
			s.log.Warn("supervise: signal the worker", "pid", s.cur.p.Pid, "err", err)
		}
	}
}

// restart begins a graceful restart: a new worker, and once it is ready
// the old one drains.
func (s *supervisor) restart() error {
	switch {
	case s.stopping:
		return ErrStopping
	case s.cancel != nil:
		return ErrBusy
	case s.cur == nil:
		return ErrNoWorker
	}
	s.log.Info("restart: starting a new worker", "args", strings.Join(s.opts.Worker.Args, " "))
	s.start("restart")
	return nil
}

func (s *supervisor) onStarted(r started) {
	s.cancel()
	s.cancel = nil
	if r.err != nil {
		var stderr string
		var f *restart.Failure
		if errors.As(r.err, &f) {
			stderr = strings.Join(f.Stderr, "\n")
		}
		switch {
		case s.stopping:
		case r.why == "restart" && s.cur != nil:
			s.log.Error("restart failed: serving on", "err", r.err, "stderr", stderr)
			for _, name := range s.cur.keepMine() {
				s.log.Info("supervise: only the failed worker listened here: closed", "listen", name)
			}
		case r.why == "first" && f != nil && f.Code == 0: // a program that ends as it boots
			s.log.Info("supervise: the worker exited 0 before it was ready: exiting")
			s.stopping, s.code = true, 0
		case r.why == "first":
			s.log.Error("supervise: the worker failed to boot: exiting", "err", r.err, "stderr", stderr)
			s.stopping, s.code = true, ExitBoot
			if f != nil && f.Code > 0 {
				s.code = f.Code
			}
		default:
			s.log.Error("supervise: the new worker failed", "err", r.err, "stderr", stderr, "restart_in", s.backoff.String())
			s.retryLater()
		}
		return
	}
	w := r.w
	if s.stopping {
		w.retired.Store(true)
		s.old[w] = true
		_ = w.p.Signal(syscall.SIGTERM)
		return
	}
	w.readyAt = time.Now()
	s.log.Info("supervise: worker ready", "pid", w.p.Pid, "after", r.why)
	if prev := s.cur; prev != nil {
		prev.retired.Store(true)
		s.old[prev] = true
		s.log.Info("restart: the new worker is ready: the old one drains", "old", prev.p.Pid, "pid", w.p.Pid)
		if err := send(prev.conn, "drain", nil); err != nil {
			s.log.Warn("supervise: ask the old worker to drain: sending SIGTERM", "pid", prev.p.Pid, "err", err)
			_ = prev.p.Signal(syscall.SIGTERM)
		}
	}
	s.cur = w
}

func (s *supervisor) onExit(w *worker) {
	err := w.p.Err()
	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	if w.retired.Load() {
		delete(s.old, w)
		s.log.Info("supervise: an old worker exited", "pid", w.p.Pid, "status", status)
		return
	}
	s.cur = nil
	code := restart.ExitCode(err)
	switch {
	case s.stopping:
		s.code = code
		s.log.Info("supervise: the worker exited", "pid", w.p.Pid, "status", status)
	case code == 0:
		s.log.Info("supervise: the worker exited 0: exiting", "pid", w.p.Pid)
		s.stopping = true
		if s.cancel != nil {
			s.cancel() // a new worker starting is killed
		}
	case s.cancel != nil: // a graceful restart's worker is starting: it takes over
		s.log.Error("supervise: the worker crashed", "pid", w.p.Pid, "status", status, "restart_in", "0s (one is starting)")
		s.code = code
	default:
		if time.Since(w.readyAt) >= Stable {
			s.backoff = MinBackoff
		}
		s.log.Error("supervise: the worker crashed", "pid", w.p.Pid, "status", status, "restart_in", s.backoff.String())
		s.code = code
		s.retryLater()
	}
}

// retryLater starts a worker after the backoff, and doubles it.
func (s *supervisor) retryLater() {
	s.retry = time.After(s.backoff)
	s.backoff = min(2*s.backoff, MaxBackoff)
}
