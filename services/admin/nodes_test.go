package admin

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/root"
)

// GET /nodes: [] alone; in a cluster, this node first, up, and a node
// configured but not running, down.
func TestNodes(t *testing.T) {
	e := newEnv(t, "")
	e.want(200, "GET", "/nodes", "", nil, "[]")

	addrs := testutil.FreeAddrs(t, 2)
	rt, _ := roottest.Start(t, root.Config{Cluster: &actor.ClusterConfig{Node: "one", Listen: addrs[0],
		Members: []actor.ClusterMember{{Node: "one", Address: addrs[0]}, {Node: "two", Address: addrs[1], ID: 2}}}})
	srv, err := Start(rt, root.AdminConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	resp, err := http.Get("http://" + srv.Addr() + "/nodes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ns []Node
	if err := json.NewDecoder(resp.Body).Decode(&ns); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	if len(ns) != 2 || ns[0].Name != "one" || !ns[0].Self || !ns[0].Up || ns[0].Address != addrs[0] ||
		ns[1].Name != "two" || ns[1].Number != 2 || ns[1].Up || ns[1].Self {
		t.Fatalf("nodes: %+v", ns)
	}
}
