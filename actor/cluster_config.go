package actor

import (
	"fmt"
	"net"
	"strconv"
)

// The config is checked whole before anything starts (nats-server's
// "check, then apply"), each error naming its config.lua key.

// checkCluster checks the config before anything starts, and fills in
// what it derives: every error names its config key.
func (s *System) checkCluster(cfg *ClusterConfig) error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("actor: cluster: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if cfg.Node == "" {
		return bad("cluster.node", "missing: this node's name")
	}
	if cfg.Name == "" {
		cfg.Name = "tern"
	}
	if cfg.Listen == "" {
		return bad("cluster.listen", "missing: the host:port node %s listens on", cfg.Node)
	}
	if _, _, err := splitHostPort(cfg.Listen); err != nil {
		return bad("cluster.listen", "%q: %v", cfg.Listen, err)
	}
	if cfg.Advertise == "" {
		cfg.Advertise = cfg.Listen
	}
	if _, p, err := splitHostPort(cfg.Advertise); err != nil || p == 0 {
		return bad("cluster.advertise", "%q: want host:port with a port", cfg.Advertise)
	}
	if s.node == 0 {
		return bad("node", "the System was made with Options.Node 0 (standalone); node %s needs its number", cfg.Node)
	}
	switch cfg.Provider {
	case "static":
		return s.checkStatic(cfg)
	case "etcd":
		if len(cfg.Etcd) == 0 {
			return bad("cluster.etcd.endpoints", "missing: the etcd provider needs at least one endpoint")
		}
	case "consul":
	case "automanaged":
		return bad("cluster.provider", `"automanaged" is not supported: it needs an extra HTTP port per node; use "static" for a fixed list`)
	case "":
		return bad("cluster.provider", `missing: one of "static", "etcd", "consul"`)
	default:
		return bad("cluster.provider", `unknown provider %q: want "static", "etcd" or "consul"`, cfg.Provider)
	}
	// A node found through etcd or consul announces its own number
	// (Options.Node): NodeNumber(Node), or one its config gives it.
	return nil
}

func (s *System) checkStatic(cfg *ClusterConfig) error {
	if len(cfg.Members) == 0 {
		return fmt.Errorf("actor: cluster: cluster.members: missing: the static provider needs every node, %s included", cfg.Node)
	}
	names := map[string]bool{}
	numbers := map[uint16]string{}
	self := false
	for i, m := range cfg.Members {
		key := fmt.Sprintf("cluster.members[%d]", i+1)
		if m.Node == "" {
			return fmt.Errorf("actor: cluster: %s.node: missing", key)
		}
		if _, p, err := splitHostPort(m.Address); err != nil || p == 0 {
			return fmt.Errorf("actor: cluster: %s.address: %q (node %s): want host:port", key, m.Address, m.Node)
		}
		if names[m.Node] {
			return fmt.Errorf("actor: cluster: %s.node: %s is listed twice", key, m.Node)
		}
		names[m.Node] = true
		n := memberNumber(m)
		if other, ok := numbers[n]; ok {
			return fmt.Errorf("actor: cluster: %s: nodes %s and %s have the same number %d; give one an id", key, other, m.Node, n)
		}
		numbers[n] = m.Node
		if m.Node == cfg.Node {
			self = true
			if n != s.node {
				return fmt.Errorf("actor: cluster: %s: node %s's number is %d, but the System was made with Options.Node %d", key, m.Node, n, s.node)
			}
			if m.Address != cfg.Advertise {
				return fmt.Errorf("actor: cluster: %s.address: node %s is listed at %s but advertises %s (cluster.advertise or cluster.listen): they must be the same", key, m.Node, m.Address, cfg.Advertise)
			}
		}
	}
	if !self {
		return fmt.Errorf("actor: cluster: cluster.members: this node, %s, is not in the list", cfg.Node)
	}
	return nil
}

// memberNumber is a static member's number: its ID, or its name's.
func memberNumber(m ClusterMember) uint16 {
	if m.ID != 0 {
		return m.ID
	}
	return NodeNumber(m.Node)
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}
