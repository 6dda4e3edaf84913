package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

func newSystem(t *testing.T) *actor.System {
	t.Helper()
	s := actor.NewSystem(actor.Options{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func adder() actor.Handlers {
	return actor.Handlers{
		"add": func(c *actor.Context, args []any) ([]any, error) {
			return []any{args[0].(int64) + args[1].(int64)}, nil
		},
		"boom": func(c *actor.Context, args []any) ([]any, error) {
			return nil, errors.New("kaboom")
		},
		"panic": func(c *actor.Context, args []any) ([]any, error) {
			panic("oh no")
		},
	}
}

func TestCallFromOutside(t *testing.T) {
	s := newSystem(t)
	ctx := context.Background()
	a, err := s.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Call(ctx, a, "add", 2, 3)
	if err != nil || res[0] != int64(5) {
		t.Fatalf("add: %v %v", res, err)
	}
	_, err = s.Call(ctx, a, "nope")
	if !errors.Is(err, actor.ErrNoCommand) {
		t.Fatalf("unknown command: %v", err)
	}
	_, err = s.Call(ctx, a, "boom")
	if !errors.Is(err, actor.ErrRemote) || err.Error() != `adder(`+a.String()+`): call "boom": kaboom` {
		t.Fatalf("raising handler: %v", err)
	}
	_, err = s.Call(ctx, a, "panic")
	if err == nil {
		t.Fatal("panicking handler: no error")
	}
	// still serving
	if res, err := s.Call(ctx, a, "add", 1, 1); err != nil || res[0] != int64(2) {
		t.Fatalf("after errors: %v %v", res, err)
	}
	_, err = s.Call(ctx, actor.MakeAddr(0, 999999), "add", 1, 2)
	if !errors.Is(err, actor.ErrNoService) {
		t.Fatalf("dead address: %v", err)
	}
}

// blocker never answers calls to "hold" until told to exit.
type blocker struct{ got chan struct{} }

func (b *blocker) Init(*actor.Context) error { return nil }
func (b *blocker) Receive(c *actor.Context, m *actor.Message) {
	switch m.Cmd {
	case "hold":
		b.got <- struct{}{}
	case "exit":
		c.Exit()
	}
}
func (b *blocker) Stopped(c *actor.Context) {}

func TestExitFailsPendingCallers(t *testing.T) {
	s := newSystem(t)
	ctx := context.Background()
	b := &blocker{got: make(chan struct{}, 10)}
	a, _ := s.Launch(ctx, b, actor.SpawnOptions{Name: "blocker"})
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() { _, err := s.Call(ctx, a, "hold"); errs <- err }()
	}
	for i := 0; i < 3; i++ {
		<-b.got
	}
	if err := s.Kill(a); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; !errors.Is(err, actor.ErrExited) && !errors.Is(err, actor.ErrNoService) {
			t.Fatalf("pending caller got %v", err)
		}
	}
}

func TestAddrString(t *testing.T) {
	for _, a := range []actor.Addr{actor.MakeAddr(0, 10), actor.MakeAddr(3, 0xabcdef12)} {
		b, err := actor.ParseAddr(a.String())
		if err != nil || b != a {
			t.Fatalf("%v -> %v %v", a, b, err)
		}
	}
	if s := actor.MakeAddr(0, 10).String(); s != ":0000000a" {
		t.Fatal(s)
	}
	if _, err := actor.ParseAddr("zz"); err == nil {
		t.Fatal("bad address parsed")
	}
}

func TestCloseLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := actor.NewSystem(actor.Options{})
	for i := 0; i < 100; i++ {
		if _, err := s.Spawn(adder(), actor.SpawnOptions{Name: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// gate blocks its goroutine until released, so its mailbox fills up.
type gate struct{ release chan struct{} }

func (g *gate) Init(*actor.Context) error { return nil }
func (g *gate) Receive(c *actor.Context, m *actor.Message) {
	if m.Cmd == "block" {
		<-g.release
	}
}
func (g *gate) Stopped(*actor.Context) {}

func TestOverloadIsReported(t *testing.T) {
	var log testutil.Buffer
	s := actor.NewSystem(actor.Options{MailboxLimit: 3000, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	defer s.Close(context.Background())
	g := &gate{release: make(chan struct{})}
	a, _ := s.Launch(context.Background(), g, actor.SpawnOptions{Name: "gate"})
	if err := s.Send(a, "block"); err != nil {
		t.Fatal(err)
	}
	var err error
	sent := 0
	for ; sent < 5000; sent++ {
		if err = s.Send(a, "x"); err != nil {
			break
		}
	}
	close(g.release)
	if !errors.Is(err, actor.ErrOverload) || sent < 2999 || sent > 3001 {
		t.Fatalf("after %d sends: %v", sent, err)
	}
	if !strings.Contains(err.Error(), "gate("+a.String()+")") {
		t.Fatalf("error does not name the service: %v", err)
	}
	for _, n := range []string{"queue=1024", "queue=2048"} {
		if !strings.Contains(log.String(), "may overload") || !strings.Contains(log.String(), n) {
			t.Fatalf("no overload warning at %s:\n%s", n, log.String())
		}
	}
}

// sink signals each message it gets.
type sink struct{ got chan struct{} }

func (s *sink) Init(*actor.Context) error                  { return nil }
func (s *sink) Stopped(*actor.Context)                     {}
func (s *sink) Receive(c *actor.Context, m *actor.Message) { s.got <- struct{}{} }

// The message hot path allocates nothing: a pooled message, posted to a
// service and handled there.
func TestSendPathAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	s := newSystem(t)
	k := &sink{got: make(chan struct{})}
	a, err := s.Launch(context.Background(), k, actor.SpawnOptions{Name: "sink"})
	if err != nil {
		t.Fatal(err)
	}
	send := func() {
		m := actor.NewMessage()
		m.Kind, m.Cmd = actor.Send, "x"
		m.Data = append(m.Data[:0], 0)
		if err := s.Post(a, m); err != nil {
			t.Fatal(err)
		}
		<-k.got
	}
	for i := 0; i < 100; i++ {
		send() // warm the pool and the mailbox ring
	}
	if n := testing.AllocsPerRun(1000, send); n > 0.1 {
		t.Fatalf("%.2f allocations per message", n)
	}
}
