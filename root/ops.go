package root

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
)

// The operations a running server is operated with: the admin HTTP API
// and the debug console are thin layers over these.

// Service describes a service for listings.
type Service struct {
	Addr    actor.Addr
	Name    string // its registered name, "" for none
	Script  string
	State   string
	Started time.Time
	Queued  int    // messages in its mailbox
	Handled uint64 // messages it has handled
	Tasks   int    // live tasks: a Lua service's coroutines running or suspended
	// The rest of its statistics; see actor.Info.
	Peak    int           // the mailbox's high-water mark
	Sent    uint64        // messages it posted
	Errors  uint64        // requests it failed, panics, posts refused
	Busy    time.Duration // time spent handling messages: its CPU time
	Wall    time.Duration // its finished requests' time, arrival to end, waits included
	Reloads uint64        // in-place reloads
	Memory  int64         // bytes, an estimate; 0 when unknown
}

// ErrTaken: the name belongs to a live service.
var ErrTaken = names.ErrTaken

// Services lists every service, oldest first.
func (r *Runtime) Services() []Service {
	infos := r.sys.Services()
	out := make([]Service, 0, len(infos))
	for _, in := range infos {
		out = append(out, r.describe(in))
	}
	return out
}

// Service describes the service target (an address or a name).
func (r *Runtime) Service(target any) (Service, error) {
	a, name, err := r.address(target, "info")
	if err != nil {
		return Service{}, err
	}
	if a == actor.None {
		return Service{}, fmt.Errorf("root: %q: %w", name, names.ErrNoName)
	}
	in, ok := r.sys.Info(a)
	if !ok {
		return Service{}, &actor.Error{Addr: a, Err: actor.ErrNoService}
	}
	return r.describe(in), nil
}

func (r *Runtime) describe(in actor.Info) Service {
	name, _ := r.table.NameOf(in.Addr)
	return Service{Addr: in.Addr, Name: name, Script: in.Script, State: in.State.String(),
		Started: in.Started, Queued: in.Queued, Handled: in.Handled, Tasks: in.Tasks,
		Peak: in.Peak, Sent: in.Sent, Errors: in.Errors, Busy: in.Busy, Wall: in.Wall, Reloads: in.Reloads, Memory: in.Memory}
}

// LogDropped is the number of log records dropped: the logger's queue
// was full, or it stopped before writing them.
func (r *Runtime) LogDropped() uint64 { return r.handler.Dropped() }

// Load starts script (looked up along the path) with args as a new
// service registered under name, and waits for its init. A name a live
// service holds is ErrTaken.
func (r *Runtime) Load(ctx context.Context, name, script string, args ...any) (actor.Addr, error) {
	if err := r.up("load"); err != nil {
		return actor.None, err
	}
	if !names.LocalName(name) {
		return actor.None, fmt.Errorf("root: load: %w: %q", names.ErrBadName, name)
	}
	if a, ok := r.table.Local(name); ok {
		return actor.None, fmt.Errorf("root: load %q: %w: it belongs to %s", name, ErrTaken, a)
	}
	a, err := r.lua.Launch(ctx, script, args...)
	if err != nil {
		return actor.None, err
	}
	if _, err := r.sys.Call(ctx, actor.Addr(r.names.Load()), "register_as", name, a); err != nil {
		return a, errors.Join(err, r.sys.Kill(a))
	}
	return a, nil
}

// StartDeclared starts the service declared under name, if it is not
// running, and returns its address.
func (r *Runtime) StartDeclared(ctx context.Context, name string) (actor.Addr, error) {
	if err := r.up("start"); err != nil {
		return actor.None, err
	}
	if a, ok := r.table.Lookup(name); ok {
		return a, nil
	}
	return r.resolve(ctx, name)
}

// Stop stops the service target cleanly: its on_shutdown runs and the
// requests in flight finish, within ctx's deadline; then it is gone and
// its names are free.
func (r *Runtime) Stop(ctx context.Context, target any) error {
	if err := r.up("stop"); err != nil {
		return err
	}
	a, name, err := r.address(target, "stop")
	if err != nil {
		return err
	}
	if a == actor.None {
		return fmt.Errorf("root: stop %q: %w", name, names.ErrNoName)
	}
	if r.core(a) {
		return &actor.Error{Addr: a, What: "stop", Err: errors.New("a core service stops only with the process")}
	}
	return r.sys.Stop(ctx, a)
}

// Kill stops the service target at once: queued and in-flight calls fail.
func (r *Runtime) Kill(target any) error {
	a, name, err := r.address(target, "kill")
	if err != nil {
		return err
	}
	if a == actor.None {
		return fmt.Errorf("root: kill %q: %w", name, names.ErrNoName)
	}
	if r.core(a) {
		return &actor.Error{Addr: a, What: "kill", Err: errors.New("a core service stops only with the process")}
	}
	return r.sys.Kill(a)
}

// core reports whether a is the root, the logger or the name service.
func (r *Runtime) core(a actor.Addr) bool {
	n, _ := r.table.NameOf(a)
	in, _ := r.sys.Info(a)
	return a == actor.Addr(r.names.Load()) || in.Script == "go:root" || in.Script == "go:logger" || n == "names"
}

// ShuttingDown reports whether the shutdown has begun (or is over).
func (r *Runtime) ShuttingDown() bool {
	select {
	case <-r.done:
		return true
	default:
	}
	return r.stopping.Load()
}

// MeasureMemory asks every running Lua service for its memory estimate
// now (skynet's mem), all at once, and returns the listing with them
// (Info.Memory). A service that cannot answer within a second (busy in a
// long handler) or is gone keeps its last estimate.
func (r *Runtime) MeasureMemory(ctx context.Context) ([]actor.Info, error) {
	if err := r.up("measure memory"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	list := r.sys.Services()
	var wg sync.WaitGroup
	for i, in := range list {
		if strings.HasPrefix(in.Script, "go:") || in.State != actor.Running {
			continue
		}
		wg.Go(func() {
			res, err := r.sys.CallControl(ctx, in.Addr, "measure memory", &lua.MeasureMemory{})
			if err == nil && len(res) > 0 {
				if n, ok := res[0].(int64); ok {
					list[i].Memory = n
				}
			}
		})
	}
	wg.Wait()
	return list, nil
}

// Inject runs the Lua file (found along the service's script path only)
// inside the VM of the Lua service target, and returns what it returns:
// the console's inject, skynet's hot-patch path.
func (r *Runtime) Inject(ctx context.Context, target any, file string) ([]any, error) {
	if err := r.up("inject"); err != nil {
		return nil, err
	}
	a, name, err := r.address(target, "inject")
	if err != nil {
		return nil, err
	}
	if a == actor.None {
		return nil, fmt.Errorf("root: inject %q: %w", name, names.ErrNoName)
	}
	if in, ok := r.sys.Info(a); ok && strings.HasPrefix(in.Script, "go:") {
		return nil, &actor.Error{Name: in.Name, Addr: a, What: "inject", Err: errors.New("not a Lua service")}
	}
	return r.sys.CallControl(ctx, a, "inject", &lua.Inject{File: file})
}
