package console

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/root"
)

// restart calls Runtime.Restart: without the binary's support it says
// so; with it, the first begins and a second is refused.
func TestRestart(t *testing.T) {
	rt, _ := startRT(t)
	s := startConsole(t, rt, false)
	if !slices.Contains(listeners.Open(), s.Addr()) {
		t.Errorf("the console's listener %s is not in the registry: %v", s.Addr(), listeners.Open())
	}
	cl := dial(t, s)
	cl.fails("restart", "cannot restart")
	var n atomic.Int32
	rt.SetRestarter(func(context.Context) error {
		if n.Add(1) > 1 {
			return root.ErrRestarting
		}
		return nil
	})
	contains(t, "restart", cl.ok("restart"), "restarting")
	cl.fails("restart", "already under way")
	cl.fails("restart now", "bad arguments")
}
