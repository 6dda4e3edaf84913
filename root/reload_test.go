package root

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

// reloadApp copies testdata/reload to a directory the test may edit.
func reloadApp(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"agent.lua", "spawner.lua"} {
		b, err := os.ReadFile(filepath.Join("testdata/reload", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setVersion(t, dir, version)
	return dir
}

func setVersion(t *testing.T, dir, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "agent_version.lua"), []byte(`return "`+v+`"`), 0o644); err != nil {
		t.Fatal(err)
	}
}

// agents lists the services running agent.lua.
func agents(rt *Runtime) []actor.Addr {
	var out []actor.Addr
	for _, in := range rt.sys.Services() {
		if runs(in.Script, "agent.lua") {
			out = append(out, in.Addr)
		}
	}
	return out
}

// Reloading every service of a script, from Lua (tern.reload{script=})
// and from Go (Runtime.ReloadScript), over 200 services: each serves the
// new code at the same address.
func TestReloadAll(t *testing.T) {
	dir := reloadApp(t, "v1")
	rt, _ := start(t, Config{Path: []string{filepath.Join(dir, "?.lua")}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sp, err := rt.lua.Launch(ctx, "spawner")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Call(ctx, sp, "spawn", 200); err != nil {
		t.Fatal(err)
	}
	before := agents(rt)
	if len(before) != 200 {
		t.Fatalf("%d agents", len(before))
	}
	check := func(want string) {
		t.Helper()
		for _, a := range before {
			res, err := rt.Call(ctx, a, "version")
			if err != nil || res[0] != want {
				t.Fatalf("agent %s: %v %v, want %s", a, res, err, want)
			}
		}
	}
	setVersion(t, dir, "v2")
	res, err := rt.Call(ctx, sp, "reloadall", "agent.lua")
	if err != nil || res[0] != int64(200) || res[1] != int64(0) {
		t.Fatalf("tern.reload{script}: %v %v", res, err)
	}
	check("v2")
	setVersion(t, dir, "v3")
	n, failed, err := rt.ReloadScript(ctx, "agent")
	if err != nil || n != 200 || len(failed) != 0 {
		t.Fatalf("ReloadScript: %d %v %v", n, failed, err)
	}
	check("v3")
	if after := agents(rt); len(after) != 200 || after[0] != before[0] || after[199] != before[199] {
		t.Fatal("the agents' addresses changed")
	}
}

// Runtime.Reload by name and by address; a Go service and an unknown
// name are errors that say so.
func TestRuntimeReload(t *testing.T) {
	dir := reloadApp(t, "v1")
	rt, _ := start(t, Config{Path: []string{filepath.Join(dir, "?.lua")}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := rt.lua.Launch(ctx, "agent")
	if err != nil {
		t.Fatal(err)
	}
	setVersion(t, dir, "v2")
	if err := rt.Reload(ctx, a); err != nil {
		t.Fatal(err)
	}
	if res, err := rt.Call(ctx, a, "version"); err != nil || res[0] != "v2" {
		t.Fatalf("after reload: %v %v", res, err)
	}
	if err := rt.Reload(ctx, "nobody"); err == nil {
		t.Fatal("reload of an unknown name: no error")
	}
	if err := rt.Reload(ctx, actor.MakeAddr(0, 1)); !errors.Is(err, actor.ErrNoReload) {
		t.Fatalf("reload of the root, a Go service: %v", err)
	}
}

// Reloading a service that is shutting down is an error that says so.
func TestReloadWhileShuttingDown(t *testing.T) {
	rt, _ := start(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := rt.Load(ctx, "slow", "stage", "slow", 500) // its on_shutdown takes 500 ms
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Stop(ctx, a) }()
	testutil.Eventually(t, 5*time.Second, "shutting down", func() bool {
		s, _ := rt.Service(a)
		return s.State == actor.ShuttingDown.String()
	})
	if err := rt.Reload(ctx, a); !errors.Is(err, actor.ErrShuttingDown) || !strings.Contains(err.Error(), "reload") {
		t.Fatalf("reload of a service shutting down: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
