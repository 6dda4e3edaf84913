package root

import (
	"context"
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
