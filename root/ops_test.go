package root

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
)

// The operations under the admin API and the console, on a real runtime.
func TestOps(t *testing.T) {
	rt, log := start(t, Config{Services: map[string]names.Decl{"db": {Script: "db", Args: []any{"x:"}}}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a, err := rt.Load(ctx, "board", "stage", "board")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Load(ctx, "board", "stage", "board"); !errors.Is(err, ErrTaken) {
		t.Fatalf("load under a taken name: %v", err)
	}
	if _, err := rt.Load(ctx, "other", "no_such_script"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("load of a missing script: %v", err)
	}
	s, err := rt.Service("board")
	if err != nil || s.Addr != a || s.Name != "board" || s.State != "running" || !strings.HasSuffix(s.Script, "stage.lua") {
		t.Fatalf("service: %+v %v", s, err)
	}
	if _, err := rt.Call(ctx, "board", "name"); err != nil {
		t.Fatal(err)
	}
	if s, _ := rt.Service(a); s.Handled == 0 {
		t.Fatalf("handled: %+v", s)
	}
	found := false
	for _, s := range rt.Services() {
		found = found || s.Addr == a
	}
	if !found {
		t.Fatal("Services does not list the loaded service")
	}

	db, err := rt.StartDeclared(ctx, "db")
	if err != nil || db == actor.None {
		t.Fatalf("start declared: %v %v", db, err)
	}

	// Stop runs on_shutdown and frees the name.
	if err := rt.Stop(ctx, "board"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "on_shutdown board") {
		t.Fatalf("stop did not run on_shutdown:\n%s", log.String())
	}
	testutil.Eventually(t, 5*time.Second, "the name freed", func() bool {
		_, ok := rt.Names().Lookup("board")
		return !ok
	})
	if _, err := rt.Load(ctx, "board", "stage", "board"); err != nil {
		t.Fatalf("load again under the freed name: %v", err)
	}
	if err := rt.Stop(ctx, "nobody"); err == nil {
		t.Fatal("stop of nothing: no error")
	}
	if err := rt.Kill(actor.MakeAddr(0, 1)); err == nil {
		t.Fatal("kill of the root: no error")
	}
	if rt.ShuttingDown() {
		t.Fatal("shutting down already")
	}
}

// The log level changes while the runtime runs.
func TestSetLogLevel(t *testing.T) {
	rt, log := start(t, Config{LogLevel: "info"}, nil)
	rt.Logger().Debug("before the change")
	if err := rt.SetLogLevel("debug"); err != nil {
		t.Fatal(err)
	}
	rt.Logger().Debug("after the change")
	if err := rt.SetLogLevel("loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Fatalf("bad level: %v", err)
	}
	testutil.Eventually(t, 5*time.Second, "the debug line written", func() bool {
		return strings.Contains(log.String(), "after the change")
	})
	if strings.Contains(log.String(), "before the change") {
		t.Fatal("a debug line was written at level info")
	}
}

// A Lua service's live tasks show in its listing.
func TestServiceTasks(t *testing.T) {
	rt, _ := start(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := rt.Load(ctx, "worker", "stage", "worker")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := rt.Call(ctx, a, "work", 300); done <- err }()
	testutil.Eventually(t, 5*time.Second, "one task suspended", func() bool {
		s, _ := rt.Service(a)
		return s.Tasks == 1
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "no task left", func() bool {
		s, _ := rt.Service(a)
		return s.Tasks == 0
	})
}
