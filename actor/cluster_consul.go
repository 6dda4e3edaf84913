package actor

import (
	"fmt"

	pa "github.com/asynkron/protoactor-go/actor"
	pc "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/consul"
	"github.com/hashicorp/consul/api"
)

// newConsulProvider wires protoactor-go's consul provider: each node
// registers a service named after the cluster, tagged with its kinds (its
// node kind among them), under a TTL check it renews; the members are the
// healthy instances. ClusterConfig.Consul is the agent's address ("" is
// the consul API's default, CONSUL_HTTP_ADDR or 127.0.0.1:8500).
//
// Unlike the other providers it needs protoactor-go's own
// Cluster.StartMember (the provider reads the kinds it registers), which
// starts the cluster gossip as well; see usesGossip.
func newConsulProvider(c *clusterState) (pc.ClusterProvider, error) {
	p, err := consul.NewWithConfig(&api.Config{Address: c.cfg.Consul})
	if err != nil {
		return nil, fmt.Errorf("actor: cluster: cluster.consul %q: %w", c.cfg.Consul, err)
	}
	return p, nil
}

// usesGossip: the provider needs protoactor-go's Cluster.StartMember, and
// with it the gossip (at the pinned version a source of data races, and a
// second of sleep at the start).
func (c *clusterState) usesGossip() bool { return c.cfg.Provider == "consul" }

// clusterKinds are the cluster kinds of a provider that registers them
// itself: this node's kind (a kind with no actor behind it).
func (c *clusterState) clusterKinds() []*pc.Kind {
	if !c.usesGossip() {
		return nil
	}
	return []*pc.Kind{pc.NewKind(c.kind, pa.PropsFromFunc(func(pa.Context) {}))}
}
