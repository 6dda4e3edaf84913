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
	"sync"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
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

	root  actor.Addr
	names actor.Addr
	boot  chan error    // the bootstrap's start: nil or its error
	done  chan struct{} // closed when the root has stopped
	code  int           // exit code, set before done closes
}

// ErrStarted: the runtime was already started.
var ErrStarted = errors.New("root: runtime already started")

// New builds a runtime for cfg. Nothing runs until Start.
func New(cfg Config) (*Runtime, error) {
	if cfg.LogLevel == "" {
		cfg.LogLevel = DefaultLogLevel
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	base, err := newHandler(out, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		cfg:       cfg,
		handler:   logger.NewHandler(base),
		factories: map[string]GoFactory{},
		table:     names.NewTable(),
		boot:      make(chan error, 1),
		done:      make(chan struct{}),
	}
	r.log = slog.New(r.handler)
	r.sys = actor.NewSystem(actor.Options{Logger: r.log})
	r.lua = lua.New(r.sys, lua.Config{
		Path:      cfg.Path,
		Shutdown:  r.shutdownCode,
		GoService: r.goService,
	})
	return r, nil
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
// runtime shuts itself down and Wait returns ExitBoot.
func (r *Runtime) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return ErrStarted
	}
	r.started = true
	r.mu.Unlock()
	a, err := r.sys.Spawn(&rootService{rt: r}, actor.SpawnOptions{Name: "root", Script: "go:root"})
	if err != nil {
		return err
	}
	r.root = a
	select {
	case err := <-r.boot:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call calls cmd on target (an actor.Addr, or a service name) from Go and
// waits for the results, mapped to Go values.
func (r *Runtime) Call(ctx context.Context, target any, cmd string, args ...any) ([]any, error) {
	a, err := r.resolve(ctx, target)
	if err != nil {
		return nil, err
	}
	return r.sys.Call(ctx, a, cmd, args...)
}

// Send sends cmd to target (an address or a name) without waiting.
func (r *Runtime) Send(target any, cmd string, args ...any) error {
	a, err := r.resolve(context.Background(), target)
	if err != nil {
		return err
	}
	return r.sys.Send(a, cmd, args...)
}

// resolve turns a target into an address, asking the name service (which
// may start a declared service) for a name it does not know yet.
func (r *Runtime) resolve(ctx context.Context, target any) (actor.Addr, error) {
	switch t := target.(type) {
	case actor.Addr:
		return t, nil
	case string:
		if a, err := actor.ParseAddr(t); err == nil {
			return a, nil
		}
		if a, ok := r.table.Lookup(t); ok {
			return a, nil
		}
		res, err := r.sys.Call(ctx, r.names, "resolve", t)
		if err != nil {
			return actor.None, err
		}
		if a, ok := res[0].(int64); ok {
			return actor.Addr(a), nil
		}
		return actor.None, fmt.Errorf("root: bad answer from the name service for %q", t)
	}
	return actor.None, fmt.Errorf("root: target must be an actor.Addr or a name, not %T", target)
}

// Shutdown runs the shutdown protocol, as a signal would, and waits for
// the runtime to stop or ctx to end.
func (r *Runtime) Shutdown(ctx context.Context) error {
	r.requestShutdown(ExitOK, "Runtime.Shutdown")
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until the runtime has stopped and returns the exit code.
func (r *Runtime) Wait() int {
	<-r.done
	return r.code
}

// Done is closed when the runtime has stopped.
func (r *Runtime) Done() <-chan struct{} { return r.done }

// System is the actor system under the runtime.
func (r *Runtime) System() *actor.System { return r.sys }

// Logger is the runtime's logger.
func (r *Runtime) Logger() *slog.Logger { return r.log }

// Names is the runtime's name table.
func (r *Runtime) Names() *names.Table { return r.table }

func (r *Runtime) shutdownCode(code int) { r.requestShutdown(code, "tern.shutdown") }

// requestShutdown asks the root to shut down.
func (r *Runtime) requestShutdown(code int, reason string) {
	m := actor.NewMessage()
	m.Kind, m.Ctl = actor.Control, stopRequest{code: code, reason: reason}
	_ = r.sys.Post(r.root, m)
}

// stopRequest asks the root to shut the process down.
type stopRequest struct {
	code   int
	reason string
	signal bool // from SIGINT/SIGTERM: a second one forces the exit
}
