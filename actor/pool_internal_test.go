package actor

import (
	"context"
	"testing"
	"time"
)

// The monitor may decide to replace a worker just as its turn ends and
// it parks. Replacing then must do nothing: a retired worker left in the
// idle list would, once woken, exit with the spinning count still up, and
// from then on no worker would be woken for new work.
func TestReplaceAfterTheTurnEndedDoesNothing(t *testing.T) {
	s := NewSystem(Options{Workers: 1})
	defer s.Close(context.Background())
	p := s.pool
	deadline := time.Now().Add(5 * time.Second)
	for p.nidle.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the worker never parked")
		}
		time.Sleep(time.Millisecond)
	}
	w := p.snapshot()[0]
	stale := w.turns.Load() + 1 // an odd count: the turn it was in
	p.replace(w, stale)
	if w.retired.Load() || len(p.snapshot()) != 1 {
		t.Fatal("a parked worker was retired")
	}
	// Work still gets done, from outside (the global queue and a wake).
	a, err := s.Launch(context.Background(), Handlers{"x": func(*Context, []any) ([]any, error) { return nil, nil }}, SpawnOptions{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		if _, err := s.Call(ctx, a, "x"); err != nil {
			t.Fatal(err)
		}
	}
}
