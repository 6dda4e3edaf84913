package root

import (
	"context"
	"fmt"
	"time"

	"github.com/tern-dev/tern/actor"
)

// The node in its cluster: the root joins it during boot, once the name
// service runs (other nodes call it at names.Handle) and before the
// bootstrap; it leaves during the shutdown, once every service has
// confirmed its shutdown (the named ones among them), and before the rest
// is stopped.

// leaveTimeout bounds the leave when the shutdown deadline has passed.
const leaveTimeout = time.Second

// coreHandle fails the boot when a core service has another handle than
// every node expects.
func coreHandle(name string, a actor.Addr, want uint32) error {
	if a.Handle() != want {
		return fmt.Errorf("%s: got handle %d (%s), want %d: every node needs its core services at the same handles; was something spawned on the System before Start?", name, a.Handle(), a, want)
	}
	return nil
}

// joinCluster starts the cluster, if the config has one.
func (s *rootService) joinCluster(c *actor.Context) error {
	cl := s.rt.cfg.Cluster
	if cl == nil {
		return nil
	}
	if err := c.System().StartCluster(*cl); err != nil {
		return fmt.Errorf("cluster %q: node %q (number %d) on %s: %w", cl.Name, cl.Node, c.System().Node(), cl.Listen, err)
	}
	s.joined = true // the System logs it
	return nil
}

// leaveCluster leaves the cluster, within what is left of the shutdown
// deadline (leaveTimeout at least).
func (s *rootService) leaveCluster(c *actor.Context) {
	if !s.joined || s.left {
		return
	}
	s.left = true
	ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(s.stop.deadline), leaveTimeout))
	defer cancel()
	if err := c.System().LeaveCluster(ctx); err != nil {
		c.Logger().Warn("leave the cluster", "node", s.rt.cfg.Cluster.Node, "err", err)
	}
}

// Nodes lists the nodes of the cluster, this one first; nil when the
// runtime is in no cluster.
func (r *Runtime) Nodes() []actor.NodeInfo { return r.sys.Nodes() }
