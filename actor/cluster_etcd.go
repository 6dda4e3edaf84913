package actor

import (
	"errors"

	pc "github.com/asynkron/protoactor-go/cluster"
)

func newEtcdProvider(c *clusterState) (pc.ClusterProvider, error) {
	return nil, errors.New("actor: cluster: etcd: not built yet")
}

func newConsulProvider(c *clusterState) (pc.ClusterProvider, error) {
	return nil, errors.New("actor: cluster: consul: not built yet")
}
