package root

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/tern-dev/tern/actor"
)

// The node in its cluster: the root joins it during boot, once the name
// service runs (other nodes call it at names.Handle) and before the
// bootstrap; it leaves during the shutdown, once every service has
// confirmed its shutdown (the named ones among them), and before the rest
// is stopped.
//
// A process started by a graceful restart cannot join at boot: its parent
// holds the cluster's listen address until it leaves, at the end of its
// shutdown, which waits for this process to be ready. With
// Config.ClusterJoinWait it boots outside the cluster, and joins as soon
// as the address is free (joinLater).

// leaveTimeout bounds the leave when the shutdown deadline has passed.
const leaveTimeout = time.Second

// joinRetry is how often a restarted process tries the address again.
const joinRetry = 50 * time.Millisecond

// clusterLife orders the join and the leave: a join that comes after the
// leave gives up, and the leave waits for a join under way.
type clusterLife struct {
	mu     sync.Mutex
	joined bool
	left   bool
}

// coreHandle fails the boot when a core service has another handle than
// every node expects.
func coreHandle(name string, a actor.Addr, want uint32) error {
	if a.Handle() != want {
		return fmt.Errorf("%s: got handle %d (%s), want %d: every node needs its core services at the same handles; was something spawned on the System before Start?", name, a.Handle(), a, want)
	}
	return nil
}

// joinCluster joins the cluster, if the config has one; with
// Config.ClusterJoinWait, a node whose address is taken joins later.
func (s *rootService) joinCluster(c *actor.Context) error {
	r := s.rt
	cl := r.cfg.Cluster
	if cl == nil {
		return nil
	}
	err := r.join()
	if err != nil && r.cfg.ClusterJoinWait > 0 && errors.Is(err, syscall.EADDRINUSE) {
		c.Logger().Info("cluster: the listen address is taken (by the process this one replaces?): joining once it is free", "node", cl.Node, "listen", cl.Listen, "within", r.cfg.ClusterJoinWait)
		go r.joinLater(time.Now().Add(r.cfg.ClusterJoinWait))
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster %q: node %q (number %d) on %s: %w", cl.Name, cl.Node, c.System().Node(), cl.Listen, err)
	}
	return nil // the System logs it
}

// join joins the cluster, unless the runtime has left it already.
func (r *Runtime) join() error {
	l := &r.cluster
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left {
		return fmt.Errorf("root: cluster: %w", ErrStopped)
	}
	if err := r.sys.StartCluster(*r.cfg.Cluster); err != nil {
		return err
	}
	l.joined = true
	return nil
}

// joinLater tries to join until the address is free, the runtime ends,
// or the deadline; a node that cannot join shuts down (ExitBoot).
func (r *Runtime) joinLater(deadline time.Time) {
	cl := r.cfg.Cluster
	t := time.NewTicker(joinRetry)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		err := r.join()
		if err == nil {
			r.log.Info("cluster: joined after the old process left", "service", "root", "node", cl.Node)
			return
		}
		if errors.Is(err, ErrStopped) {
			return
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			r.log.Error("cluster: cannot join", "service", "root", "node", cl.Node, "listen", cl.Listen, "err", err)
			r.requestShutdown(stopRequest{code: ExitBoot, reason: "cannot join the cluster"})
			return
		}
	}
}

// leaveCluster leaves the cluster, once, within what is left of the
// shutdown deadline (leaveTimeout at least).
func (s *rootService) leaveCluster(c *actor.Context) {
	ctx, cancel := context.WithTimeout(context.Background(), max(time.Until(s.stop.deadline), leaveTimeout))
	defer cancel()
	s.rt.leaveCluster(ctx)
}

// leaveCluster leaves the cluster within ctx, once; a join after it gives
// up.
func (r *Runtime) leaveCluster(ctx context.Context) {
	l := &r.cluster
	l.mu.Lock()
	joined, left := l.joined, l.left
	l.left = true
	l.mu.Unlock()
	if !joined || left {
		return
	}
	if err := r.sys.LeaveCluster(ctx); err != nil {
		r.log.Warn("leave the cluster", "service", "root", "node", r.cfg.Cluster.Node, "err", err)
	}
}

// Nodes lists the nodes of the cluster, this one first; nil when the
// runtime is in no cluster.
func (r *Runtime) Nodes() []actor.NodeInfo { return r.sys.Nodes() }
