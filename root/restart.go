package root

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNoRestart: the program running the runtime cannot restart its
// binary (only `tern run` can: a program that embeds tern sets it up with
// SetRestarter, or not at all).
var ErrNoRestart = errors.New("root: restart: this process cannot restart its binary (run it with `tern run`)")

// ErrRestarting: a graceful restart is already under way.
var ErrRestarting = errors.New("root: restart: an upgrade is already under way")

// Restarter begins a graceful restart of the binary: it returns once the
// upgrade has begun (or with why not, e.g. ErrRestarting), and goes on in
// the background; when the new process is ready it shuts this runtime
// down.
type Restarter func(ctx context.Context) error

var restarters sync.Map // *Runtime -> Restarter

// SetRestarter installs what Restart runs (`tern run` does, with
// internal/restart).
func (r *Runtime) SetRestarter(f Restarter) {
	if f == nil {
		restarters.Delete(r)
		return
	}
	restarters.Store(r, f)
	go func() {
		<-r.done
		restarters.Delete(r)
	}()
}

// Restart begins a graceful restart of the binary: a new process takes
// over the listening sockets, and once it is ready this runtime shuts
// down. It fails with ErrNoRestart without the binary-level support, with
// ErrRestarting while an upgrade runs, and with ErrStopped once the
// runtime is shutting down.
func (r *Runtime) Restart(ctx context.Context) error {
	select {
	case <-r.done:
		return fmt.Errorf("root: restart: %w", ErrStopped)
	default:
	}
	if r.stopping.Load() {
		return fmt.Errorf("root: restart: %w: the runtime is shutting down", ErrStopped)
	}
	f, ok := restarters.Load(r)
	if !ok {
		return ErrNoRestart
	}
	return f.(Restarter)(ctx)
}
