package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

// waiter calls the echo service and sets a timer, then blocks its
// goroutine on "block" until released, so its mailbox fills while the
// answer and the timer are on their way.
type waiter struct {
	echo     actor.Addr
	release  chan struct{}
	blocked  chan struct{}
	answered chan error
	fired    chan struct{}
	timer    uint32
}

func (w *waiter) Init(*actor.Context) error { return nil }
func (w *waiter) Stopped(*actor.Context)    {}
func (w *waiter) Receive(c *actor.Context, m *actor.Message) {
	switch {
	case m.Kind == actor.Timer && m.Session == w.timer:
		close(w.fired)
	case m.Cmd == "start":
		c.Call(w.echo, "add", []any{1, 2}, func(_ []any, err error) { w.answered <- err })
		w.timer = c.NewSession()
		c.After(time.Millisecond, w.timer)
		close(w.blocked)
		<-w.release
	}
}

// A service whose mailbox is full still gets its answers and its timers:
// only new requests are refused.
func TestFullMailboxStillTakesAnswersAndTimers(t *testing.T) {
	s := actor.NewSystem(actor.Options{MailboxLimit: 100})
	defer closeWithin(t, s)
	ctx := context.Background()
	echo, err := s.Launch(ctx, adder(), actor.SpawnOptions{Name: "adder"})
	if err != nil {
		t.Fatal(err)
	}
	w := &waiter{echo: echo, release: make(chan struct{}), blocked: make(chan struct{}), answered: make(chan error, 1), fired: make(chan struct{})}
	a, err := s.Launch(ctx, w, actor.SpawnOptions{Name: "waiter"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(a, "start"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(func() { close(w.release) }) }
	defer release()
	<-w.blocked
	flood := 0
	for ; ; flood++ {
		if err := s.Send(a, "flood"); err != nil {
			if !errors.Is(err, actor.ErrOverload) {
				t.Fatalf("flood: %v", err)
			}
			break
		}
		if flood > 1000 {
			t.Fatal("the mailbox limit is not enforced")
		}
	}
	// The answer and the timer reach the full mailbox (the answer may
	// have come before the flood filled it): the service sees both once
	// it is free again.
	testutil.Eventually(t, 5*time.Second, "answer and timer queued", func() bool {
		info, _ := s.Info(a)
		return info.Queued == flood+2
	})
	release()
	select {
	case err := <-w.answered:
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the answer to a service with a full mailbox was lost")
	}
	select {
	case <-w.fired:
	case <-time.After(5 * time.Second):
		t.Fatal("the timer of a service with a full mailbox was lost")
	}
}

// Sends still queued when a service exits are dropped with one log line
// saying how many.
func TestExitLogsDroppedSends(t *testing.T) {
	var log testutil.Buffer
	s := actor.NewSystem(actor.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	defer closeWithin(t, s)
	g := &gate{release: make(chan struct{})}
	a, _ := s.Launch(context.Background(), g, actor.SpawnOptions{Name: "gate"})
	if err := s.Send(a, "block"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		if err := s.Send(a, "x"); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Eventually(t, 5*time.Second, "sends queued", func() bool {
		info, _ := s.Info(a)
		return info.Queued == 7
	})
	if err := s.Kill(a); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	testutil.Eventually(t, 5*time.Second, "drop logged", func() bool {
		return strings.Contains(log.String(), "exited with sends queued; dropped") && strings.Contains(log.String(), "count=7")
	})
	if n := strings.Count(log.String(), "sends queued"); n != 1 {
		t.Fatalf("%d lines about dropped sends, want 1:\n%s", n, log.String())
	}
}

// A service spawned while Close runs is stopped too: Close leaves no
// service and no goroutine behind.
func TestSpawnDuringClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for round := 0; round < 50; round++ {
		s := actor.NewSystem(actor.Options{})
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if _, err := s.Spawn(adder(), actor.SpawnOptions{Name: "x"}); err != nil {
						if !errors.Is(err, actor.ErrShuttingDown) {
							t.Errorf("spawn: %v", err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%5) * 100 * time.Microsecond) // vary where Close lands; no result depends on it
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Close(ctx)
		cancel()
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		if n := len(s.Services()); n != 0 {
			t.Fatalf("round %d: %d services left after Close", round, n)
		}
	}
}

// A service whose handler never returns is named by Close, and listed as
// stopping until it finishes.
func TestCloseNamesAServiceThatDoesNotStop(t *testing.T) {
	s := actor.NewSystem(actor.Options{})
	g := &gate{release: make(chan struct{})}
	a, _ := s.Launch(context.Background(), g, actor.SpawnOptions{Name: "stuck"})
	if err := s.Send(a, "block"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "block taken from the mailbox", func() bool {
		info, _ := s.Info(a)
		return info.Queued == 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "stuck("+a.String()+")") {
		t.Fatalf("close: %v", err)
	}
	info, ok := s.Info(a)
	if !ok || info.State != actor.Stopped {
		t.Fatalf("a stopping service is not listed as stopping: %+v %v", info, ok)
	}
	close(g.release)
	testutil.Eventually(t, 5*time.Second, "the stuck service finished", func() bool {
		return len(s.Services()) == 0
	})
}

// Cancelled timers leave the timer queue: answered calltimeouts with long
// timeouts don't pile up.
func TestCancelledTimersLeaveTheQueue(t *testing.T) {
	s := newSystem(t)
	done := make(chan struct{})
	svc := actor.Handlers{
		"go": func(c *actor.Context, _ []any) ([]any, error) {
			for i := 0; i < 100000; i++ {
				session := c.NewSession()
				c.After(time.Hour, session)
				c.CancelTimer(session)
			}
			close(done)
			return nil, nil
		},
	}
	a, _ := s.Launch(context.Background(), svc, actor.SpawnOptions{Name: "t"})
	if _, err := s.Call(context.Background(), a, "go"); err != nil {
		t.Fatal(err)
	}
	<-done
	if n := s.PendingTimers(); n > 1000 {
		t.Fatalf("%d timers queued after 100000 set and cancelled", n)
	}
}

// closeWithin closes s, failing the test if that takes over 5 s.
func closeWithin(t *testing.T, s *actor.System) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// A flood of sends to an unknown command logs a few lines with a count,
// not one line each.
func TestUnknownCommandWarningsAreRateLimited(t *testing.T) {
	var log testutil.Buffer
	s := actor.NewSystem(actor.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	defer closeWithin(t, s)
	a, _ := s.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	for i := 0; i < 10000; i++ {
		if err := s.Send(a, "nope"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Call(context.Background(), a, "add", 1, 1); err != nil { // after every send
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "send to unknown command"); n < 1 || n > 3 {
		t.Fatalf("%d warning lines for 10000 sends:\n%s", n, log.String())
	}
}

// Go values packed past Options.MaxMessage are refused with an error
// naming the value, before anything is sent.
func TestGoCallsMeetMaxMessage(t *testing.T) {
	s := actor.NewSystem(actor.Options{MaxMessage: 100})
	defer closeWithin(t, s)
	a, _ := s.Launch(context.Background(), adder(), actor.SpawnOptions{Name: "adder"})
	_, err := s.Call(context.Background(), a, "add", 1, strings.Repeat("x", 1000))
	if !errors.Is(err, pack.ErrTooLarge) || !strings.Contains(err.Error(), "args[2]") {
		t.Fatalf("call with a value over the cap: %v", err)
	}
	if res, err := s.Call(context.Background(), a, "add", 1, 2); err != nil || res[0] != int64(3) {
		t.Fatalf("small call: %v %v", res, err)
	}
}
