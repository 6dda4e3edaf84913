// Package roottest boots a real root.Runtime for the tests of packages
// built on it (services/admin, services/console). root's own tests cannot
// use it: it imports root.
package roottest

import (
	"context"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/root"
)

// Start boots a runtime for cfg, logging into the returned buffer (shown
// if the test fails), and shuts it down when the test ends.
func Start(t testing.TB, cfg root.Config) (*root.Runtime, *testutil.Buffer) {
	t.Helper()
	log := &testutil.Buffer{}
	cfg.LogOutput = log
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	rt, err := root.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("start: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	})
	return rt, log
}
