package lua_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
)

// A Lua handler stuck in a loop that never yields does not stop two other
// services from exchanging 10,000 calls, even with a single worker: the
// monitor replaces the stuck worker.
func TestStuckServiceDoesNotStallOthers(t *testing.T) {
	log := &testutil.Buffer{}
	sys := actor.NewSystem(actor.Options{Workers: 1, Logger: slog.New(slog.NewTextHandler(log, nil))})
	rt := lua.New(sys, lua.Config{Path: []string{"testdata/?.lua"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spinner, err := rt.Launch(ctx, "spinner")
	if err != nil {
		t.Fatal(err)
	}
	echo, err := rt.Launch(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	pinger, err := rt.Launch(ctx, "pinger")
	if err != nil {
		t.Fatal(err)
	}
	const spin = 5000 // ms: ten times what the calls take under -race
	spun := make(chan error, 1)
	go func() {
		_, err := sys.Call(ctx, spinner, "spin", spin)
		spun <- err
	}()
	testutil.Eventually(t, 5*time.Second, "the spinner's worker replaced", func() bool {
		return strings.Contains(log.String(), "maybe an endless loop") && strings.Contains(log.String(), "service=spinner")
	})
	res, err := sys.Call(ctx, pinger, "run", echo, 10000)
	if err != nil {
		t.Fatalf("calls while a service spins: %v", err)
	}
	select {
	case err := <-spun:
		t.Fatalf("the spinner ended (%v) before the calls did: the test proves nothing", err)
	default:
	}
	t.Logf("10,000 calls in %v ms beside a spinning service", res[0])
	if err := <-spun; err != nil {
		t.Fatalf("spin: %v", err)
	}
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelClose()
	if err := sys.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
}
