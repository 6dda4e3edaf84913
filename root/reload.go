package root

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
)

// Reload reloads the Lua service target (an actor.Addr, or the name of a
// running service) in place: a new VM running its script as it is on
// disk now, behind the same address, mailbox and names. It returns once
// the new VM serves, or with the reason the old one still does (a Go
// service, a service shutting down, a script that fails to compile or
// start).
func (r *Runtime) Reload(ctx context.Context, target any) error {
	if err := r.up("reload"); err != nil {
		return err
	}
	a, name, err := r.address(target, "reload")
	if err != nil {
		return err
	}
	if a == actor.None {
		return fmt.Errorf("root: reload %q: %w", name, names.ErrNoName)
	}
	return r.sys.Reload(ctx, a)
}

// ReloadScript reloads every running service whose script is script
// ("agent.lua", or a path ending in it), one at a time, never all paused
// together. It returns how many were reloaded and the failures by
// address.
func (r *Runtime) ReloadScript(ctx context.Context, script string) (int, map[actor.Addr]error, error) {
	if err := r.up("reload"); err != nil {
		return 0, nil, err
	}
	if !strings.HasSuffix(script, ".lua") {
		script += ".lua"
	}
	n, failed := 0, map[actor.Addr]error{}
	for _, in := range r.sys.Services() {
		if in.State != actor.Running || !runs(in.Script, script) {
			continue
		}
		if err := r.sys.Reload(ctx, in.Addr); err != nil {
			if ctx.Err() != nil {
				return n, failed, ctx.Err()
			}
			failed[in.Addr] = err
			continue
		}
		n++
	}
	return n, failed, nil
}

// runs reports whether a service's script path is script or ends in it.
func runs(path, script string) bool {
	path, script = filepath.ToSlash(path), filepath.ToSlash(script)
	return path == script || strings.HasSuffix(path, "/"+script)
}
