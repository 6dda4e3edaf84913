package actor

import (
	"context"
	"errors"
	"fmt"
	"net"

	pa "github.com/asynkron/protoactor-go/actor"
	pc "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	pb "github.com/tern-dev/tern/proto"
	"google.golang.org/grpc"
)

// Joining and leaving: the order of the start (config, tern process,
// subscriptions, remote, provider) and of the leave (provider, waiting
// calls, remote).

// StartCluster joins the cluster: it starts the remote listener and the
// membership provider. The System must have been made with Options.Node
// equal to this node's number. It fails when the config is wrong (naming
// the key), when two nodes' numbers collide, or when the listener can't
// be opened. It returns once the nodes up already are known (static:
// one round of probes; etcd: the keys there). A start that failed before
// the listener opened (a bad config, the address taken) may be tried
// again; otherwise a System joins once: after LeaveCluster or a later
// failure, a new System is needed (a restarted node is a new System
// anyway, a new incarnation to the others).
func (s *System) StartCluster(cfg ClusterConfig) (err error) {
	h := &s.cluster
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.joined {
		return errors.New("actor: cluster: this System already joined a cluster (a System joins once)")
	}
	if err := s.checkCluster(&cfg); err != nil {
		return err
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultRemoteCallTimeout
	}
	host, port, _ := splitHostPort(cfg.Listen)
	if ln, err := net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("actor: cluster: node %s: cluster.listen %s: %w", cfg.Node, cfg.Listen, err)
	} else {
		ln.Close()
	}
	c := &clusterState{sys: s, cfg: cfg, memberID: s.as.ID, address: cfg.Advertise}
	c.kind = nodeKind(s.node, cfg.Node)
	c.nodes.init(c)
	provider, err := c.newProvider()
	if err != nil {
		return err
	}
	c.provider = provider

	if _, ok := s.as.ProcessRegistry.Add(ternProcess{c}, ternPID); !ok {
		return errors.New("actor: cluster: a process named tern already exists")
	}
	c.subscribe()
	c.calls.init(c, cfg.CallTimeout)

	opts := []remote.ConfigOption{
		remote.WithServerOptions(grpc.StreamInterceptor(c.guard)),
		// protoactor-go's default starts each endpoint writer's queue at a
		// million slots (16 MB of pointers the GC scans on every cycle);
		// the queue grows as needed.
		remote.WithEndpointWriterQueueSize(1 << 12),
	}
	if cfg.Advertise != cfg.Listen {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	rc := remote.Configure(host, port, opts...)
	// One connection attempt, not five two seconds apart: a node that is
	// down is the membership's business, and the envelopes queued for it
	// come back as dead letters at once (each call among them fails).
	rc.MaxRetryCount = 1
	c.c = pc.New(s.as, pc.Configure(cfg.Name, provider, disthash.New(), rc, pc.WithKinds(c.clusterKinds()...)))
	s.cluster.Store(c)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("actor: cluster: node %s: start: %v", cfg.Node, r)
		}
		if err != nil {
			// Before the remote listened, nothing is left behind: the
			// System may try again (a listen address still taken).
			h.joined = c.remoteStarted()
			c.stop(context.Background(), "start failed", false)
			s.cluster.Store(nil)
		}
	}()
	if c.usesGossip() {
		s.spawnMu.Lock() // see startMember
		func() {
			defer s.spawnMu.Unlock()
			c.c.StartMember()
		}()
	} else {
		c.startMember()
	}
	if err := c.nodes.selfCollision(); err != nil {
		return err
	}
	h.joined = true
	s.log.Info("cluster: joined", "cluster", cfg.Name, "node", cfg.Node, "number", s.node,
		"address", c.address, "provider", cfg.Provider, "member", c.memberID)
	return nil
}

// startMember is protoactor-go's Cluster.StartMember without its gossip:
// at the pinned version the gossip actor mutates its state while the
// remote marshals it, and blocks members from its goroutine while the
// MemberList reads the block list without a lock (data races both).
// tern's membership is its provider's alone, so the gossip has nothing to
// add. Nor the second of sleep StartMember ends with.
func (c *clusterState) startMember() {
	cl := c.c
	cl.Remote = remote.NewRemote(c.sys.as, cl.Config.RemoteConfig)
	// Remote.Start sets the process registry's address, which every
	// spawn reads: no spawn runs meanwhile.
	c.sys.spawnMu.Lock()
	func() {
		defer c.sys.spawnMu.Unlock()
		cl.Remote.Start()
	}()
	cl.IdentityLookup = cl.Config.IdentityLookup
	cl.IdentityLookup.Setup(cl, []string{c.kind}, false)
	if err := cl.Config.ClusterProvider.StartMember(cl); err != nil {
		panic(err)
	}
}

func (c *clusterState) newProvider() (pc.ClusterProvider, error) {
	switch c.cfg.Provider {
	case "static":
		c.static = newStaticProvider(c)
		return c.static, nil
	case "etcd":
		return newEtcdProvider(c)
	case "consul":
		return newConsulProvider(c)
	}
	return nil, fmt.Errorf("actor: cluster: cluster.provider: unknown provider %q", c.cfg.Provider)
}

// subscribe follows the topology, the transport's losses and its lost
// connections on the ActorSystem's event stream.
func (c *clusterState) subscribe() {
	es := c.sys.as.EventStream
	c.subs = append(c.subs,
		es.SubscribeWithPredicate(func(ev any) {
			if c.static == nil { // the static provider tells the node table itself
				c.nodes.topology(ev.(*pc.ClusterTopology))
			}
		},
			func(ev any) bool { _, ok := ev.(*pc.ClusterTopology); return ok }),
		es.SubscribeWithPredicate(func(ev any) { c.deadLetter(ev.(*pa.DeadLetterEvent)) },
			func(ev any) bool { _, ok := ev.(*pa.DeadLetterEvent); return ok }),
		es.SubscribeWithPredicate(func(ev any) {
			if c.static != nil {
				c.static.lost(ev.(*remote.EndpointTerminatedEvent).Address)
			}
		}, func(ev any) bool { _, ok := ev.(*remote.EndpointTerminatedEvent); return ok }),
	)
}

// LeaveCluster leaves the cluster (the provider deregisters this node)
// and stops the remote, within ctx. Calls still waiting on other nodes
// fail. Safe to call when not in a cluster.
func (s *System) LeaveCluster(ctx context.Context) error {
	h := &s.cluster
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.Load()
	if c == nil || c.left.Load() {
		return nil
	}
	err := c.stop(ctx, "this node left the cluster", true)
	s.log.Info("cluster: left", "cluster", c.cfg.Name, "node", c.cfg.Node)
	return err
}

// stop is the leave: the provider deregisters this node (graceful), the
// waiting calls fail, then protoactor's cluster parts and the remote stop.
// protoactor-go's Cluster.Shutdown is not used: it shuts the whole
// ActorSystem down, stops a gossip tern does not start (startMember), and
// sleeps two seconds for grain handovers tern has none of.
func (c *clusterState) stop(ctx context.Context, why string, graceful bool) error {
	c.left.Store(true)
	c.leaveCtx = ctx
	var errs []error
	started := c.remoteStarted()
	if started {
		if err := c.provider.Shutdown(graceful); err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", c.cfg.Provider, err))
		}
	} else if c.static != nil {
		c.static.Shutdown(false)
	}
	c.calls.close(why)
	c.nodes.allDown(why)
	if started {
		if c.c.IdentityLookup != nil {
			c.c.IdentityLookup.Shutdown()
		}
		c.c.Gossip.Shutdown() // started only for consul (usesGossip)
		c.stopRemote()
	}
	for _, sub := range c.subs {
		c.sys.as.EventStream.Unsubscribe(sub)
	}
	c.sys.as.ProcessRegistry.Remove(c.sys.as.NewLocalPID(ternPID))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("actor: cluster: node %s: leave: %w", c.cfg.Node, err)
	}
	return nil
}

// stopRemote stops the remote: its gRPC server at once (the provider has
// told the other nodes already), then its connections to them, each after
// the envelopes queued on it. Remote.Shutdown(true) is not used: at the
// pinned protoactor-go it races its own readers (endpointReader.suspended)
// and its event handlers (endpointManager.connections set to nil under
// them), and it waits ten seconds for a peer that keeps its stream open.
func (c *clusterState) stopRemote() {
	c.c.Remote.Shutdown(false)
	es := c.sys.as.EventStream
	for _, n := range c.nodes.list()[1:] {
		es.Publish(&remote.EndpointTerminatedEvent{Address: n.Address})
	}
}

// remoteStarted reports whether the remote got as far as listening:
// Remote.Start sets the registry's address, protoactor-go's "nonhost"
// until then.
func (c *clusterState) remoteStarted() bool {
	return c.c != nil && c.c.Remote != nil && c.sys.as.ProcessRegistry.Address != "nonhost"
}

// updateTopology hands the members the provider sees to the MemberList.
func (c *clusterState) updateTopology(members []*pc.Member) {
	c.blockMu.Lock()
	defer c.blockMu.Unlock()
	c.c.MemberList.UpdateClusterTopology(members)
}

// deadLetter counts an envelope the transport could not deliver, and
// fails the call it carried at once.
func (c *clusterState) deadLetter(ev *pa.DeadLetterEvent) {
	env, ok := ev.Message.(*pb.Envelope)
	if !ok {
		return
	}
	to := Addr(env.To)
	if p := c.peer(to.Node()); p != nil {
		p.dropped.Add(1)
	}
	if env.Session != 0 && (env.Kind == pb.Kind_KIND_CALL || env.Kind == pb.Kind_KIND_CONTROL) {
		caller := Addr(env.From)
		if caller.Node() == c.sys.node && c.calls.take(caller, env.Session) {
			c.calls.fail(caller, env.Session, to, env.Cmd, fmt.Errorf("%w: %s: the transport dropped the call", ErrNodeDown, c.nodeName(to.Node())))
		}
	}
}
