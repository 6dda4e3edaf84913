package root

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
)

// loadCluster loads a config.lua holding body in a fresh app directory.
func loadCluster(t *testing.T, body string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.lua"), []byte("return "+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(dir)
}

const twoNodes = `members = { { node = "node1", address = "127.0.0.1:7701" }, { node = "node2", address = "127.0.0.1:7702" } }`

func TestClusterConfig(t *testing.T) {
	cfg, err := loadCluster(t, `{ cluster = { name = "game", node = "node2", listen = "127.0.0.1:7702", advertise = "10.0.0.2:7702", call_timeout = 1500, `+twoNodes+` } }`)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Cluster
	if c == nil || c.Name != "game" || c.Node != "node2" || c.Listen != "127.0.0.1:7702" || c.Advertise != "10.0.0.2:7702" || c.Provider != "static" || c.CallTimeout != 1500*time.Millisecond || len(c.Members) != 2 || c.Members[1].Address != "127.0.0.1:7702" {
		t.Fatalf("cluster: %+v", c)
	}
	if n, err := checkCluster(c); err != nil || n != actor.NodeNumber("node2") {
		t.Fatalf("number %d, %v", n, err)
	}
	// an id overrides the number derived from the name
	cfg, err = loadCluster(t, `{ cluster = { node = "b", listen = "127.0.0.1:1", members = { { node = "a", address = "127.0.0.1:1", id = 1 }, { node = "b", address = "127.0.0.1:2", id = 7 } } } }`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := checkCluster(cfg.Cluster); err != nil || n != 7 || cfg.Cluster.Name != DefaultClusterName {
		t.Fatalf("number %d, %v, %+v", n, err, cfg.Cluster)
	}
	cfg, err = loadCluster(t, `{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "etcd", etcd = { endpoints = { "127.0.0.1:2379" } } } }`)
	if err != nil || cfg.Cluster.Etcd[0] != "127.0.0.1:2379" {
		t.Fatalf("etcd: %+v %v", cfg.Cluster, err)
	}
	cfg, err = loadCluster(t, `{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "consul", consul = { address = "127.0.0.1:8500" } } }`)
	if err != nil || cfg.Cluster.Consul != "127.0.0.1:8500" {
		t.Fatalf("consul: %+v %v", cfg.Cluster, err)
	}
	// no cluster table: alone
	if cfg, err = loadCluster(t, `{}`); err != nil || cfg.Cluster != nil {
		t.Fatalf("alone: %+v %v", cfg.Cluster, err)
	}
}

// Every mistake in the cluster table is an error naming the key.
func TestClusterConfigRejects(t *testing.T) {
	// two names whose derived numbers collide
	a, b := "", ""
	seen := map[uint16]string{}
	for i := 0; a == ""; i++ {
		n := "n" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		if o, ok := seen[actor.NodeNumber(n)]; ok && o != n {
			a, b = o, n
		}
		seen[actor.NodeNumber(n)] = n
	}
	for body, want := range map[string]string{
		`{ cluster = { nod = "a" } }`:                                                                                                 `cluster: unknown key string "nod" (did you mean "node"?)`,
		`{ cluster = { node = "a", listen = "127.0.0.1:1", zebra = 1 } }`:                                                             `cluster: unknown key string "zebra"; known keys: advertise, call_timeout, consul, etcd, listen, members, name, node, provider`,
		`{ cluster = "node1" }`:                                                                                                       `cluster must be a table, not string "node1"`,
		`{ cluster = { listen = "127.0.0.1:1", ` + twoNodes + ` } }`:                                                                  `cluster.node must be a node name, not empty`,
		`{ cluster = { node = "a@b", listen = "127.0.0.1:1" } }`:                                                                      `cluster.node "a@b": a node name has no '@'`,
		`{ cluster = { node = 3, listen = "127.0.0.1:1" } }`:                                                                          `cluster.node must be a string, not number 3`,
		`{ cluster = { node = "node1", ` + twoNodes + ` } }`:                                                                          `cluster.listen "": want "host:port"`,
		`{ cluster = { node = "node1", listen = "7701", ` + twoNodes + ` } }`:                                                         `cluster.listen "7701": want "host:port"`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", provider = "zk", ` + twoNodes + ` } }`:                                 `cluster.provider "zk": want one of static, etcd, automanaged, consul`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1" } }`:                                                                    `cluster.members: the "static" provider needs the list of every node`,
		`{ cluster = { node = "n3", listen = "127.0.0.1:1", ` + twoNodes + ` } }`:                                                     `cluster.members: this node, "n3", is not among them`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { { node = "node1", adress = "x" } } } }`:                    `cluster.members[1]: unknown key string "adress" (did you mean "address"?)`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { { node = "node1", address = "127.0.0.1:1", id = 0 } } } }`: `cluster.members[1].id must be a whole number from 1 to 65535, not number 0`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { { node = "node1", address = "127.0.0.1:1" }, { node = "node1", address = "127.0.0.1:2" } } } }`:             `cluster.members[2]: node "node1" is listed twice`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { { node = "node1", address = "127.0.0.1:1", id = 5 }, { node = "x", address = "127.0.0.1:2", id = 5 } } } }`: `cluster.members[2]: nodes "node1" and "x" have the same number 5: give one an id`,
		`{ cluster = { node = "` + a + `", listen = "127.0.0.1:1", members = { { node = "` + a + `", address = "127.0.0.1:1" }, { node = "` + b + `", address = "127.0.0.1:2" } } } }`: `nodes "` + a + `" and "` + b + `" have the same number`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { { node = "node1" } } } }`:                                                                                   `cluster.members[1].address "": want "host:port"`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", members = { x = 1 } } }`:                                                                                                `cluster.members must be a list; it has the key string "x"`,
		`{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "etcd" } }`:                                                                                                      `cluster.etcd.endpoints: the "etcd" provider needs at least one endpoint`,
		`{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "etcd", etcd = { endpoint = {} } } }`:                                                                            `cluster.etcd: unknown key string "endpoint" (did you mean "endpoints"?)`,
		`{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "etcd", etcd = { endpoints = { 2379 } } } }`:                                                                     `cluster.etcd.endpoints[1] must be a string, not number 2379`,
		`{ cluster = { node = "n", listen = "127.0.0.1:1", provider = "consul", consul = { adress = "x" } } }`:                                                                         `cluster.consul: unknown key string "adress" (did you mean "address"?)`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", call_timeout = 0, ` + twoNodes + ` } }`:                                                                                 `cluster.call_timeout must be a positive number of milliseconds, at most 86400000 (a day), not number 0`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", call_timeout = "1s", ` + twoNodes + ` } }`:                                                                              `cluster.call_timeout must be a positive number of milliseconds, at most 86400000 (a day), not string "1s"`,
		`{ cluster = { node = "node1", listen = "127.0.0.1:1", advertise = "nowhere", ` + twoNodes + ` } }`:                                                                            `cluster.advertise "nowhere": want "host:port"`,
		`{ clustr = {} }`: `unknown key "clustr" (did you mean "cluster"?)`,
	} {
		_, err := loadCluster(t, body)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "config.lua") {
			t.Errorf("%s:\n got %v\nwant %q", body, err, want)
		}
	}
}

// A Go program's cluster config gets the same checks in New.
func TestNewChecksCluster(t *testing.T) {
	_, err := New(Config{Cluster: &actor.ClusterConfig{Node: "a", Listen: "127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), `root: cluster.members: the "static" provider`) {
		t.Fatalf("got %v", err)
	}
}
