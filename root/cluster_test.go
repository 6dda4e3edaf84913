package root

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// boot starts a runtime expected to fail its boot, and returns its exit
// code and log.
func boot(t *testing.T, cfg Config, setup func(*Runtime)) (int, string) {
	t.Helper()
	log := &testutil.Buffer{}
	cfg.LogOutput = log
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(rt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err == nil {
		t.Fatalf("the boot did not fail:\n%s", log.String())
	}
	return waitCode(t, rt, log), log.String()
}

// A node that cannot join its cluster (its port is taken) fails the boot
// with ExitBoot, saying which node, where, and why.
func TestClusterStartFailureFailsTheBoot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	cfg := Config{Cluster: &actor.ClusterConfig{Node: "node1", Listen: taken, Members: []actor.ClusterMember{{Node: "node1", Address: taken}, {Node: "node2", Address: "127.0.0.1:1"}}}}
	code, log := boot(t, cfg, nil)
	if code != ExitBoot || !strings.Contains(log, "boot failed") || !strings.Contains(log, `cluster \"tern\": node \"node1\"`) || !strings.Contains(log, taken) {
		t.Fatalf("exit %d:\n%s", code, log)
	}
}

// Every node's core services sit at the same handles: a service spawned
// before Start would move them, and fails the boot.
func TestCoreHandlesAreFixed(t *testing.T) {
	code, log := boot(t, Config{}, func(rt *Runtime) {
		if _, err := rt.System().Spawn(idleService{}, actor.SpawnOptions{Name: "early"}); err != nil {
			t.Fatal(err)
		}
	})
	if code != ExitBoot || !strings.Contains(log, "root: got handle 2") {
		t.Fatalf("exit %d:\n%s", code, log)
	}
}

// idleService is a service that does nothing.
type idleService struct{}

func (idleService) Init(*actor.Context) error              { return nil }
func (idleService) Receive(*actor.Context, *actor.Message) {}
func (idleService) Stopped(*actor.Context)                 {}

// name@node on a runtime in no cluster fails where it is used, from Lua
// and from Go, saying so; a name registered {cluster = true} is just a
// name of this node; tern.nodes() is empty.
func TestNameAtNodeAlone(t *testing.T) {
	rt, _ := start(t, Config{}, nil)
	a, err := rt.lua.Launch(context.Background(), "atnode")
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, rt, a, "errors", "db@node2")[0].(map[string]any)
	for _, k := range []string{"send", "call", "query", "unique"} {
		if s, _ := got[k].(string); !strings.Contains(s, `"db@node2": not in a cluster`) {
			t.Errorf("%s: %q", k, s)
		}
	}
	if s, _ := got["register"].(string); !strings.Contains(s, `names: bad name: "db@node2"`) {
		t.Errorf("register: %q", s)
	}
	if got["cluster"] != "ok" || got["nodes"] != int64(0) {
		t.Errorf("cluster name alone: %v", got)
	}
	if s, _ := got["option"].(string); !strings.Contains(s, `unknown option "clustr" (did you mean "cluster"?)`) {
		t.Errorf("option: %q", s)
	}
	if err := rt.Send("db@node2", "x"); !errors.Is(err, actor.ErrNoCluster) {
		t.Errorf("Send: %v", err)
	}
	if _, err := rt.Call(context.Background(), "db@node2", "x"); !errors.Is(err, actor.ErrNoCluster) {
		t.Errorf("Call: %v", err)
	}
	if rt.Nodes() != nil {
		t.Errorf("Nodes: %v", rt.Nodes())
	}
}

// With ClusterJoinWait, a node whose address is taken (by the process it
// replaces, in a graceful restart) boots outside the cluster and joins
// once the address is free; if it never is, it shuts down with ExitBoot.
func TestClusterJoinWait(t *testing.T) {
	held := func() (net.Listener, *actor.ClusterConfig) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		return ln, &actor.ClusterConfig{Node: "n1", Listen: a, Members: []actor.ClusterMember{{Node: "n1", Address: a}}}
	}
	t.Run("gives up", func(t *testing.T) {
		ln, cl := held()
		defer ln.Close()
		log := &testutil.Buffer{}
		rt, err := New(Config{Cluster: cl, ClusterJoinWait: 200 * time.Millisecond, LogOutput: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if code := waitCode(t, rt, log); code != ExitBoot || !strings.Contains(log.String(), "cluster: cannot join") {
			t.Fatalf("exit %d:\n%s", code, log)
		}
	})
	t.Run("joins", func(t *testing.T) {
		ln, cl := held()
		rt, log := start(t, Config{Cluster: cl, ClusterJoinWait: 20 * time.Second}, nil)
		eventually(t, "the log says it joins later", func() bool { return strings.Contains(log.String(), "joining once it is free") })
		if rt.Nodes() != nil {
			t.Fatalf("joined with its address taken: %v", rt.Nodes())
		}
		ln.Close()
		eventually(t, "the node joins", func() bool { return rt.Nodes() != nil })
	})
}
