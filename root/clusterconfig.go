package root

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/tern-dev/tern/actor"
	glua "github.com/yuin/gopher-lua"
)

// config.lua's cluster table:
//
//	cluster = {
//	  name = "game", node = "node1", listen = "127.0.0.1:7701", advertise = "...",
//	  provider = "static", -- or "etcd", "automanaged", "consul"
//	  members = { { node = "node1", address = "127.0.0.1:7701" }, { node = "node2", address = "127.0.0.1:7702", id = 2 } },
//	  etcd = { endpoints = { "127.0.0.1:2379" } },
//	  consul = { address = "127.0.0.1:8500" },
//	  call_timeout = 10000,
//	}

var (
	clusterKeys = []string{"name", "node", "listen", "advertise", "provider", "members", "etcd", "consul", "call_timeout"}
	memberKeys  = []string{"node", "address", "id"}
	etcdKeys    = []string{"endpoints"}
	consulKeys  = []string{"address"}
	// Providers are the membership providers a cluster may use.
	Providers = []string{"static", "etcd", "automanaged", "consul"}
)

// DefaultClusterName is the cluster's name when config.lua gives none.
const DefaultClusterName = "tern"

// MaxCallTimeout is the most call_timeout may be: a day.
const MaxCallTimeout = 24 * time.Hour

// readCluster reads cluster = { ... } into Config.Cluster.
func (cfg *Config) readCluster(file string, v glua.LValue) error {
	t, err := subTable(file, "cluster", v, clusterKeys)
	if err != nil {
		return err
	}
	c := &actor.ClusterConfig{Name: DefaultClusterName, Provider: "static"}
	str := func(key string, dst *string) error {
		s, err := optString(file, "cluster."+key, t.RawGetString(key))
		if err == nil && s != "" {
			*dst = s
		}
		return err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &c.Name}, {"node", &c.Node}, {"listen", &c.Listen}, {"advertise", &c.Advertise}, {"provider", &c.Provider}} {
		if err := str(f.key, f.dst); err != nil {
			return err
		}
	}
	if v := t.RawGetString("members"); v != glua.LNil {
		if c.Members, err = readMembers(file, v); err != nil {
			return err
		}
	}
	if v := t.RawGetString("etcd"); v != glua.LNil {
		e, err := subTable(file, "cluster.etcd", v, etcdKeys)
		if err != nil {
			return err
		}
		list, ok := e.RawGetString("endpoints").(*glua.LTable)
		if !ok {
			return fmt.Errorf("config %s: cluster.etcd.endpoints must be a list of \"host:port\" strings, not %s", file, describeValue(e.RawGetString("endpoints")))
		}
		err = readList(list, func(i int, p glua.LValue) error {
			s, ok := p.(glua.LString)
			if !ok {
				return fmt.Errorf("config %s: cluster.etcd.endpoints[%d] must be a string, not %s", file, i, describeValue(p))
			}
			c.Etcd = append(c.Etcd, string(s))
			return nil
		}, func(k glua.LValue) error {
			return fmt.Errorf("config %s: cluster.etcd.endpoints must be a list; it has the key %s", file, describeValue(k))
		})
		if err != nil {
			return err
		}
	}
	if v := t.RawGetString("consul"); v != glua.LNil {
		e, err := subTable(file, "cluster.consul", v, consulKeys)
		if err != nil {
			return err
		}
		if c.Consul, err = optString(file, "cluster.consul.address", e.RawGetString("address")); err != nil {
			return err
		}
	}
	if v := t.RawGetString("call_timeout"); v != glua.LNil {
		n, ok := v.(glua.LNumber)
		ms := float64(n)
		if !ok || math.IsNaN(ms) || ms <= 0 || ms > float64(MaxCallTimeout/time.Millisecond) {
			return fmt.Errorf("config %s: cluster.call_timeout must be a positive number of milliseconds, at most %d (a day), not %s", file, MaxCallTimeout/time.Millisecond, describeValue(v))
		}
		c.CallTimeout = time.Duration(ms * float64(time.Millisecond))
	}
	if _, err := checkCluster(c); err != nil {
		return fmt.Errorf("config %s: %w", file, err)
	}
	cfg.Cluster = c
	return nil
}

// readMembers reads members = { { node = "n1", address = "h:p", id = 1 }, ... }.
func readMembers(file string, v glua.LValue) ([]actor.ClusterMember, error) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, fmt.Errorf("config %s: cluster.members must be a list of { node = ..., address = ... }, not %s", file, describeValue(v))
	}
	var out []actor.ClusterMember
	err := readList(t, func(i int, e glua.LValue) error {
		key := fmt.Sprintf("cluster.members[%d]", i)
		m, err := subTable(file, key, e, memberKeys)
		if err != nil {
			return err
		}
		var mb actor.ClusterMember
		if mb.Node, err = optString(file, key+".node", m.RawGetString("node")); err != nil {
			return err
		}
		if mb.Address, err = optString(file, key+".address", m.RawGetString("address")); err != nil {
			return err
		}
		if id := m.RawGetString("id"); id != glua.LNil {
			n, ok := id.(glua.LNumber)
			f := float64(n)
			if !ok || f != math.Trunc(f) || f < 1 || f > math.MaxUint16 {
				return fmt.Errorf("config %s: %s.id must be a whole number from 1 to %d, not %s", file, key, math.MaxUint16, describeValue(id))
			}
			mb.ID = uint16(f)
		}
		out = append(out, mb)
		return nil
	}, func(k glua.LValue) error {
		return fmt.Errorf("config %s: cluster.members must be a list; it has the key %s", file, describeValue(k))
	})
	return out, err
}

// checkCluster checks a cluster config (from config.lua or a Go program)
// and returns this node's number: its member entry's id, or else
// actor.NodeNumber of its name. An empty Name or Provider gets the
// default. Errors name the config.lua key.
func checkCluster(c *actor.ClusterConfig) (uint16, error) {
	if err := nodeName("cluster.node", c.Node); err != nil {
		return 0, err
	}
	if c.Name == "" {
		c.Name = DefaultClusterName
	}
	if c.Provider == "" {
		c.Provider = "static"
	}
	if err := hostPort("cluster.listen", c.Listen, true); err != nil {
		return 0, err
	}
	if err := hostPort("cluster.advertise", c.Advertise, false); err != nil {
		return 0, err
	}
	if c.CallTimeout < 0 {
		return 0, fmt.Errorf("cluster.call_timeout must be positive, not %v", c.CallTimeout)
	}
	known := false
	for _, p := range Providers {
		known = known || c.Provider == p
	}
	if !known {
		return 0, fmt.Errorf("cluster.provider %q: want one of %s", c.Provider, strings.Join(Providers, ", "))
	}
	switch {
	case c.Provider == "static" && len(c.Members) == 0:
		return 0, fmt.Errorf(`cluster.members: the "static" provider needs the list of every node, this one included`)
	case c.Provider == "etcd" && len(c.Etcd) == 0:
		return 0, fmt.Errorf(`cluster.etcd.endpoints: the "etcd" provider needs at least one endpoint`)
	}
	for i, e := range c.Etcd {
		if err := hostPort(fmt.Sprintf("cluster.etcd.endpoints[%d]", i+1), e, true); err != nil {
			return 0, err
		}
	}
	// Every node must compute the same numbers: two names with one number
	// would route one node's traffic to the other.
	self := actor.NodeNumber(c.Node)
	byName := map[string]bool{}
	byNumber := map[uint16]string{}
	found := len(c.Members) == 0
	for i, m := range c.Members {
		key := fmt.Sprintf("cluster.members[%d]", i+1)
		if err := nodeName(key+".node", m.Node); err != nil {
			return 0, err
		}
		if err := hostPort(key+".address", m.Address, true); err != nil {
			return 0, err
		}
		if byName[m.Node] {
			return 0, fmt.Errorf("%s: node %q is listed twice", key, m.Node)
		}
		byName[m.Node] = true
		n := m.ID
		if n == 0 {
			n = actor.NodeNumber(m.Node)
		}
		if other, ok := byNumber[n]; ok {
			return 0, fmt.Errorf("%s: nodes %q and %q have the same number %d: give one an id", key, other, m.Node, n)
		}
		byNumber[n] = m.Node
		if m.Node == c.Node {
			self, found = n, true
		}
	}
	if !found {
		return 0, fmt.Errorf("cluster.members: this node, %q, is not among them", c.Node)
	}
	return self, nil
}

// nodeName checks a node's name: it ends "name@node" lookups, so it has
// no '@' and no ':' (an address), and no space.
func nodeName(key, s string) error {
	if s == "" {
		return fmt.Errorf("%s must be a node name, not empty", key)
	}
	if strings.ContainsAny(s, "@: \t\r\n") {
		return fmt.Errorf("%s %q: a node name has no '@', ':' or space", key, s)
	}
	return nil
}

// hostPort checks a "host:port"; "" only when it is not required.
func hostPort(key, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if _, _, err := net.SplitHostPort(s); err != nil || s == "" {
		return fmt.Errorf("%s %q: want \"host:port\"", key, s)
	}
	return nil
}
