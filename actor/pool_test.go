package actor_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
)

// Idle services hold no goroutine: the pool's workers run whichever
// service has messages.
func TestIdleServicesHoldNoGoroutine(t *testing.T) {
	s := actor.NewSystem(actor.Options{})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // 100k stops, under -race too
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	before := runtime.NumGoroutine()
	const n = 100000
	for i := 0; i < n; i++ {
		if _, err := s.Spawn(adder(), actor.SpawnOptions{Name: "idle"}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "last"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(context.Background(), a, "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	if got := runtime.NumGoroutine() - before; got > 20 {
		t.Fatalf("%d idle services hold %d goroutines", n, got)
	}
}

// A Go service that asks for a goroutine of its own may block without
// holding a worker: with one worker, others keep running.
func TestDedicatedServiceBlocksAlone(t *testing.T) {
	s := actor.NewSystem(actor.Options{Workers: 1})
	defer closeWithin(t, s)
	g := &gate{release: make(chan struct{})}
	defer close(g.release)
	a, _ := s.Launch(context.Background(), g, actor.SpawnOptions{Name: "blocking", Dedicated: true})
	if err := s.Send(a, "block"); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		if _, err := s.Call(ctx, b, "add", i, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// A Go handler that spins holds its worker; the monitor starts another,
// so with one worker two other services still exchange calls.
func TestSpinningGoHandlerIsReplaced(t *testing.T) {
	s := actor.NewSystem(actor.Options{Workers: 1})
	defer closeWithin(t, s)
	var stop atomic.Bool
	defer stop.Store(true)
	spinning := make(chan struct{})
	spinner := actor.Handlers{"spin": func(*actor.Context, []any) ([]any, error) {
		close(spinning)
		for !stop.Load() {
		}
		return nil, nil
	}}
	sp, _ := s.Launch(context.Background(), spinner, actor.SpawnOptions{Name: "spinner"})
	if err := s.Send(sp, "spin"); err != nil {
		t.Fatal(err)
	}
	<-spinning
	b, _ := s.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 1000; i++ {
		if _, err := s.Call(ctx, b, "add", i, 1); err != nil {
			t.Fatalf("call %d beside a spinning handler: %v", i, err)
		}
	}
}
