// Package root owns the process: the root service is the first actor; it
// boots the logger, the name service and the bootstrap service, in that
// order, shuts everything down on a signal, tern.shutdown or
// Runtime.Shutdown, and decides the exit code. The process lives as long
// as the root service. Runtime is the Go API over it, for `tern run` and
// for programs that embed tern.
package root

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/services/gate"
	"github.com/tern-dev/tern/services/logger"
)

// GoFactory makes a Go service from the arguments it was started with
// (tern.newservice(name, ...), a declared service, tern.uniqueservice).
type GoFactory func(args []any) (actor.Service, error)

// Runtime is one tern runtime: New, RegisterGo, Start, then Call and Send
// into it, and Shutdown and Wait to end it.
type Runtime struct {
	cfg     Config
	log     *slog.Logger
	handler *logger.Handler
	sys     *actor.System
	lua     *lua.Runtime
	table   *names.Table

	mu        sync.Mutex
	factories map[string]GoFactory
	started   bool
	root      actor.Addr   // set by the root service's Init, before it spawns anything
	pending   *stopRequest // a shutdown asked for before the root ran

	cluster  clusterLife    // joined and left (cluster.go)
	names    atomic.Uint64  // the name service's address, once it runs
	stopping atomic.Bool    // the root has begun the shutdown
	level    *slog.LevelVar // the log level, changed by SetLogLevel
	boot     chan error     // the bootstrap's start: nil or its error
	done     chan struct{}  // closed when the runtime has ended
	endOnce  sync.Once
	code     int // exit code, set before done closes
}

// Errors of the Go API, for errors.Is.
var (
	// ErrStarted: the runtime was already started.
	ErrStarted = errors.New("root: runtime already started")
	// ErrNotStarted: Start has not run (far enough) yet.
	ErrNotStarted = errors.New("root: runtime not started")
	// ErrStopped: the runtime has ended, or ended before the bootstrap's
	// init finished.
	ErrStopped = errors.New("root: runtime stopped")
)

// New builds a runtime for cfg. Nothing runs until Start.
//
// Relative file names in cfg are relative to the working directory at
// New: a Bootstrap naming a file there, and the Path entries, are made
// absolute now (see Config), and no later lookup depends on the working
// directory.
func New(cfg Config) (*Runtime, error) {
	if cfg.LogLevel == "" {
		cfg.LogLevel = DefaultLogLevel
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.MaxMessage < 0 {
		return nil, fmt.Errorf("root: MaxMessage must be a positive number of bytes, not %d", cfg.MaxMessage)
	}
	if cfg.MaxTasks < 0 {
		return nil, fmt.Errorf("root: MaxTasks must be a positive number of tasks, not %d", cfg.MaxTasks)
	}
	if m := cfg.Memory; m.Soft < 0 || m.Hard < 0 || (m.Soft > 0 && m.Hard > 0 && m.Soft >= m.Hard) {
		return nil, fmt.Errorf("root: Memory must have 0 <= Soft < Hard (or either 0), not soft %d, hard %d", m.Soft, m.Hard)
	}
	if cfg.MemoryLimit < 0 {
		return nil, fmt.Errorf("root: MemoryLimit must be a positive number of bytes, not %d", cfg.MemoryLimit)
	}
	if err := cfg.absolute(); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	var node uint16
	if cfg.Cluster != nil {
		c := *cfg.Cluster
		c.Members = append([]actor.ClusterMember(nil), c.Members...)
		cfg.Cluster = &c
		var err error
		if node, err = checkCluster(cfg.Cluster); err != nil {
			return nil, fmt.Errorf("root: %w", err)
		}
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	level := new(slog.LevelVar)
	base, err := newHandler(out, cfg.LogLevel, cfg.LogFormat, level)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		cfg:       cfg,
		level:     level,
		handler:   logger.NewHandler(base),
		factories: map[string]GoFactory{"gate": gateFactory(cfg.appDir())},
		table:     names.NewTable(),
		boot:      make(chan error, 1),
		done:      make(chan struct{}),
	}
	r.log = slog.New(r.handler)
	r.sys = actor.NewSystem(actor.Options{Logger: r.log, Workers: cfg.Workers, MaxMessage: cfg.MaxMessage, Node: node})
	r.sys.SetMonitor(cfg.Monitor)
	r.lua = lua.New(r.sys, lua.Config{
		Path:       cfg.Path,
		Shutdown:   r.shutdownCode,
		GoService:  r.goService,
		MaxMessage: cfg.MaxMessage,
		MaxTasks:   cfg.MaxTasks,
		Memory:     cfg.Memory,
	})
	return r, nil
}

// gateScript is the Script of every gate service (lua.Runtime.Start
// names a Go service "go:" and its registered name).
const gateScript = "go:gate"

// gateFactory makes the built-in gate service (services/gate): a
// relative static directory is found in the app directory, or else in
// the working directory.
func gateFactory(dir string) GoFactory {
	return func(args []any) (actor.Service, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("gate: newservice takes no arguments (open the listener with a call of \"open\"), got %d", len(args))
		}
		return gate.New(dir), nil
	}
}

// RegisterGo makes a Go service startable by name, from Lua
// (tern.newservice, tern.uniqueservice) or as a declared service.
func (r *Runtime) RegisterGo(name string, f GoFactory) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return fmt.Errorf("root: register %q: %w", name, ErrStarted)
	}
	r.factories[name] = f
	return nil
}

func (r *Runtime) goService(name string, args []byte) (actor.Service, bool, error) {
	r.mu.Lock()
	f := r.factories[name]
	r.mu.Unlock()
	if f == nil {
		return nil, false, nil
	}
	var vals []any
	if len(args) > 0 {
		var err error
		if vals, err = pack.DecodeValues(args); err != nil {
			return nil, true, err
		}
	}
	svc, err := f(vals)
	return svc, true, err
}

// Start boots the runtime: the root, then the logger, the name service
// and the bootstrap script (if the config names one). It returns once the
// bootstrap's init has run, or with its error; after a boot error the
// runtime shuts itself down and Wait returns ExitBoot. If the runtime ends
// first (a shutdown during boot), Start returns an error matching
// ErrStopped, and Wait returns the shutdown's code.
//
// With Config.Signals (or Config.SignalC), SIGINT and SIGTERM are caught
// from the start of Start on: the first starts the shutdown, a second one
// (or one during a shutdown) ends the runtime at once with ExitForced.
func (r *Runtime) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return ErrStarted
	}
	r.started = true
	r.mu.Unlock()
	if r.cfg.Signals || r.cfg.SignalC != nil {
		r.watchSignals()
	}
	setMemoryLimit(r.cfg.MemoryLimit, r.log, r.done)
	// The root records its own address in Init, before it spawns anything:
	// the bootstrap may call tern.shutdown before Spawn returns here.
	if _, err := r.sys.Spawn(&rootService{rt: r}, actor.SpawnOptions{Name: "root", Script: "go:root"}); err != nil {
		r.end(ExitBoot)
		return fmt.Errorf("root: start: %w", err)
	}
	select {
	case err := <-r.boot:
		return err
	case <-r.done:
		select {
		case err := <-r.boot:
			return err
		default:
		}
		return fmt.Errorf("root: start: %w before the bootstrap's init finished", ErrStopped)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call calls cmd on target (an actor.Addr, or a service name) from Go and
// waits for the results, mapped to Go values. A declared name starts its
// service first. It fails at once before Start, after the runtime ended,
// and for address 0.
func (r *Runtime) Call(ctx context.Context, target any, cmd string, args ...any) ([]any, error) {
	what := "call " + quote(cmd)
	if err := r.up(what); err != nil {
		return nil, err
	}
	a, name, err := r.address(target, what)
	if err != nil {
		return nil, err
	}
	if a == actor.None {
		if a, err = r.resolve(ctx, name); err != nil {
			return nil, err
		}
	}
	res, err := r.sys.Call(ctx, a, cmd, args...)
	if err != nil && name != "" && errors.Is(err, actor.ErrNoService) {
		// Gone since the name was looked up: say which name it was.
		err = fmt.Errorf("root: %s %q: %w", what, name, err)
	}
	return res, err
}

// Send sends cmd to target (an address or a name) without waiting; it
// never blocks. Its arguments may pack to at most Config.MaxMessage
// bytes. A name not registered yet goes through the name service,
// which delivers the message once the name exists (starting its declared
// service first, in the order sent) or logs and drops it if nothing
// registers or declares the name. It fails at once before Start, after
// the runtime ended, and for address 0.
func (r *Runtime) Send(target any, cmd string, args ...any) error {
	what := "send " + quote(cmd)
	if err := r.up(what); err != nil {
		return err
	}
	a, name, err := r.address(target, what)
	if err != nil {
		return err
	}
	to := quote(name)
	if a != actor.None {
		to = a.String()
	}
	m := actor.NewMessage()
	data, err := pack.AppendValuesLimit(m.Data[:0], r.cfg.MaxMessage, args...)
	if err != nil {
		m.Release()
		return fmt.Errorf("root: send %q to %s: %w", cmd, to, err)
	}
	m.Kind, m.Cmd, m.Data = actor.Send, cmd, data
	if a != actor.None {
		return r.sys.Post(a, m)
	}
	m.Ctl = names.Forward{Name: name}
	if err := r.sys.Post(actor.Addr(r.names.Load()), m); err != nil {
		return fmt.Errorf("root: send %q to %s: %w", cmd, to, err)
	}
	return nil
}

// up fails unless the runtime is running: started far enough for the
// name service to exist, and not ended.
func (r *Runtime) up(what string) error {
	select {
	case <-r.done:
		return fmt.Errorf("root: %s: %w", what, ErrStopped)
	default:
	}
	if r.names.Load() == 0 {
		return fmt.Errorf("root: %s: %w", what, ErrNotStarted)
	}
	return nil
}

// address reads a target: an address (a != None), or a name not
// registered yet (a == None, name set).
func (r *Runtime) address(target any, what string) (a actor.Addr, name string, err error) {
	switch t := target.(type) {
	case actor.Addr:
		a = t
	case string:
		if p, perr := actor.ParseAddr(t); perr == nil {
			a = p
			break
		}
		if !names.ValidName(t) {
			return actor.None, "", fmt.Errorf("root: %s: bad target %q: neither an address (\":0000000a\") nor a name", what, t)
		}
		if strings.ContainsRune(t, '@') {
			if _, _, err := names.Node(r.sys, t); err != nil {
				return actor.None, "", fmt.Errorf("root: %s: %w", what, err)
			}
		}
		if a, ok := r.table.Direct(t); ok {
			return a, t, nil
		}
		return actor.None, t, nil
	default:
		return actor.None, "", fmt.Errorf("root: %s: target must be an actor.Addr or a name, not %T", what, target)
	}
	if a == actor.None {
		return actor.None, "", &actor.Error{Addr: a, What: what, Err: fmt.Errorf("%w: address 0 names no service", actor.ErrNoService)}
	}
	return a, "", nil
}

// resolve asks the name service for a name it did not have in the table
// (it may start a declared service first).
func (r *Runtime) resolve(ctx context.Context, name string) (actor.Addr, error) {
	res, err := r.sys.Call(ctx, actor.Addr(r.names.Load()), "resolve", name)
	if err != nil {
		return actor.None, err
	}
	if len(res) > 0 {
		if a, ok := res[0].(int64); ok {
			return actor.Addr(a), nil
		}
	}
	return actor.None, fmt.Errorf("root: bad answer from the name service for %q: %v", name, res)
}

// Shutdown runs the shutdown protocol, as a signal would, and waits for
// the runtime to stop or ctx to end. Before Start it fails at once with
// ErrNotStarted.
func (r *Runtime) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	if !started {
		return fmt.Errorf("root: shutdown: %w", ErrNotStarted)
	}
	r.requestShutdown(stopRequest{code: ExitOK, reason: "Runtime.Shutdown"})
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until the runtime has ended and returns the exit code.
//
// A service that missed the shutdown deadline is named in the log and
// makes the code ExitDeadline, but Go cannot stop a goroutine from
// outside: a Lua service spinning in an endless loop keeps its goroutine,
// and burns its CPU, after Wait returns, until the process exits. (tern
// run exits at once; a program that embeds tern and goes on should treat
// ExitDeadline accordingly. A future interrupt of running Lua code will
// end such a service.) The same holds after a forced exit (ExitForced),
// which ends the runtime without waiting for any service.
func (r *Runtime) Wait() int {
	<-r.done
	return r.code
}

// Done is closed when the runtime has ended.
func (r *Runtime) Done() <-chan struct{} { return r.done }

// System is the actor system under the runtime.
func (r *Runtime) System() *actor.System { return r.sys }

// Logger is the runtime's logger.
func (r *Runtime) Logger() *slog.Logger { return r.log }

// Names is the runtime's name table.
func (r *Runtime) Names() *names.Table { return r.table }

// end ends the runtime with code: Wait returns it. The first call wins.
func (r *Runtime) end(code int) {
	r.endOnce.Do(func() {
		r.code = code
		close(r.done)
	})
}

func (r *Runtime) shutdownCode(code int) {
	r.requestShutdown(stopRequest{code: code, reason: "tern.shutdown"})
}

// requestShutdown asks the root to shut down. Before the root runs, the
// request waits for it (the root's Init takes it).
func (r *Runtime) requestShutdown(req stopRequest) {
	r.mu.Lock()
	root := r.root
	if root == actor.None {
		if r.pending == nil || req.forced {
			r.pending = &req
		}
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	m := actor.NewMessage()
	m.Kind, m.Ctl = actor.Control, req
	if err := r.sys.Post(root, m); err != nil {
		// The root is gone: the runtime has ended or is ending.
		r.log.Debug("shutdown request after the root stopped", "reason", req.reason, "err", err)
	}
}

// stopRequest asks the root to shut the process down.
type stopRequest struct {
	code   int
	reason string
	forced bool // a second signal: end now
}

// watchSignals turns SIGINT and SIGTERM into shutdown requests: the first
// starts the shutdown; a second one, or one during a shutdown, ends the
// runtime at once, from this goroutine, whatever the root is doing.
func (r *Runtime) watchSignals() {
	ch, own := r.cfg.SignalC, false
	if ch == nil {
		ch, own = make(chan os.Signal, 4), true
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	}
	// A signal already there (it came while config.lua loaded) is taken
	// now, before the root exists: the root then stops during boot,
	// without starting the bootstrap.
	n := 0
	select {
	case sig := <-ch:
		n++
		r.requestShutdown(stopRequest{code: ExitOK, reason: "signal " + sig.String()})
	default:
	}
	go func() {
		if own {
			defer signal.Stop(ch)
		}
		for {
			select {
			case sig := <-ch:
				n++
				if n == 1 && !r.stopping.Load() {
					r.requestShutdown(stopRequest{code: ExitOK, reason: "signal " + sig.String()})
					continue
				}
				r.force(sig)
				return
			case <-r.done:
				return
			}
		}
	}()
}

// force ends the runtime now with ExitForced. It does not wait for the
// root, which may be waiting on a service that never answers: it logs
// directly, asks the root to stop everything, and ends the runtime.
func (r *Runtime) force(sig os.Signal) {
	r.handler.Detach() // write directly: the logger may be about to go
	r.mu.Lock()
	root := r.root
	r.mu.Unlock()
	r.log.Error("second signal: exiting now", "service", "root", "addr", root.String(), "signal", sig.String(), "code", ExitForced)
	r.requestShutdown(stopRequest{code: ExitForced, reason: "second signal", forced: true})
	r.end(ExitForced)
}

func quote(s string) string { return `"` + s + `"` }

// SetLogLevel changes the log level while the runtime runs: debug, info,
// warn or error.
func (r *Runtime) SetLogLevel(level string) error { return setLevel(r.level, level) }
