package logger_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/services/logger"
)

// start runs a logger service for h in a new system.
func start(t *testing.T, h *logger.Handler) (*actor.System, actor.Addr) {
	t.Helper()
	sys := actor.NewSystem(actor.Options{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sys.Close(ctx)
	})
	a, err := sys.Launch(context.Background(), logger.Service{Handler: h}, actor.SpawnOptions{Name: "logger"})
	if err != nil {
		t.Fatal(err)
	}
	return sys, a
}

func stopped(t *testing.T, sys *actor.System, a actor.Addr) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, "logger stopped", func() bool { _, ok := sys.Info(a); return !ok })
}

// inOrder fails unless every line is in text, in this order.
func inOrder(t *testing.T, text string, lines ...string) {
	t.Helper()
	last := -1
	for _, l := range lines {
		at := strings.Index(text, l)
		if at < 0 {
			t.Fatalf("line %q missing:\n%s", l, text)
		}
		if at <= last {
			t.Fatalf("line %q out of order:\n%s", l, text)
		}
		last = at
	}
}

func TestRecordsGoThroughTheLoggerInOrder(t *testing.T) {
	var out testutil.Buffer
	h := logger.NewHandler(slog.NewTextHandler(&out, nil))
	log := slog.New(h).With("svc", "x")
	log.Info("before attach")
	sys, a := start(t, h)
	h.Attach(sys, a)
	var want []string
	for i := 0; i < 100; i++ {
		log.Info("line", "i", i)
		want = append(want, fmt.Sprintf("msg=line svc=x i=%d\n", i))
	}
	// "exit" is handled after every record queued before it
	if err := sys.Send(a, "exit"); err != nil {
		t.Fatal(err)
	}
	stopped(t, sys, a)
	log.Info("after the logger") // written directly: the logger is gone
	want = append([]string{"before attach"}, append(want, "after the logger")...)
	inOrder(t, out.String(), want...)
	if h.Dropped() != 0 || strings.Contains(out.String(), "dropped") {
		t.Fatalf("records reported dropped: %d\n%s", h.Dropped(), out.String())
	}
}

// gate is a writer that blocks until opened, like a stderr nobody reads.
type gate struct {
	testutil.Buffer
	entered, open chan struct{}
	once, shut    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{entered: make(chan struct{}), open: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.entered) })
	<-g.open
	return g.Buffer.Write(p)
}

func (g *gate) release() { g.shut.Do(func() { close(g.open) }) }

// blocked waits until the logger is stuck writing its first record.
func (g *gate) blocked(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the logger never wrote")
	}
}

func TestQueueIsBoundedAndDropsAreReportedLast(t *testing.T) {
	g := newGate(t)
	h := logger.NewHandler(slog.NewTextHandler(g, nil))
	h.SetQueueLimit(100)
	log := slog.New(h)
	sys, a := start(t, h)
	h.Attach(sys, a)
	log.Info("first")
	g.blocked(t)
	for i := 0; i < 1000; i++ { // never blocks: past 100 queued, dropped
		log.Info("line", "i", i)
	}
	if q := h.Queued(); q != 100 {
		t.Fatalf("%d records queued, want the bound, 100", q)
	}
	if in, _ := sys.Info(a); in.Queued > 100 {
		t.Fatalf("the logger's mailbox holds %d messages, past the bound", in.Queued)
	}
	if d := h.Dropped(); d != 901 {
		t.Fatalf("Dropped() = %d, want 901", d)
	}
	if err := h.Exit(time.Time{}); err != nil {
		t.Fatal(err)
	}
	g.release()
	stopped(t, sys, a)
	text := strings.TrimSuffix(g.String(), "\n")
	want := []string{"msg=first"}
	for i := 0; i < 99; i++ {
		want = append(want, fmt.Sprintf("msg=line i=%d\n", i))
	}
	inOrder(t, text, want...)
	lines := strings.Split(text, "\n")
	if len(lines) != 101 || !strings.Contains(lines[100], `msg="logger: 901 records dropped" queue_full=901 unwritten=0`) {
		t.Fatalf("want 100 records then the drop count as the last line, got %d lines:\n%s", len(lines), text)
	}
	h.Detach() // root's final call: nothing new to report
	if n := strings.Count(g.String(), "records dropped"); n != 1 {
		t.Fatalf("the drop count reported %d times:\n%s", n, g.String())
	}
}

func TestExitWritesRecordsLoggedBehindIt(t *testing.T) {
	g := newGate(t)
	h := logger.NewHandler(slog.NewTextHandler(g, nil))
	log := slog.New(h)
	sys, a := start(t, h)
	h.Attach(sys, a)
	log.Info("a")
	g.blocked(t)
	if err := sys.Send(a, "exit"); err != nil {
		t.Fatal(err)
	}
	log.Info("b") // queued behind "exit"
	log.Info("c")
	g.release()
	stopped(t, sys, a)
	log.Info("d")
	inOrder(t, g.String(), "msg=a\n", "msg=b\n", "msg=c\n", "msg=d\n")
	if h.Dropped() != 0 {
		t.Fatalf("Dropped() = %d", h.Dropped())
	}
}

func TestLoggerStoppedHardCountsWhatItNeverWrote(t *testing.T) {
	g := newGate(t)
	h := logger.NewHandler(slog.NewTextHandler(g, nil))
	log := slog.New(h)
	sys, a := start(t, h)
	h.Attach(sys, a)
	log.Info("first")
	g.blocked(t)
	for i := 0; i < 9; i++ {
		log.Info("lost", "i", i)
	}
	if err := sys.Kill(a); err != nil { // the shutdown deadline passed
		t.Fatal(err)
	}
	g.release()
	stopped(t, sys, a)
	if d, u := h.Dropped(), h.Unwritten(); d != 9 || u != 9 {
		t.Fatalf("Dropped() = %d, Unwritten() = %d, want 9", d, u)
	}
	text := strings.TrimSuffix(g.String(), "\n")
	lines := strings.Split(text, "\n")
	if !strings.Contains(lines[len(lines)-1], `msg="logger: 9 records dropped" queue_full=0 unwritten=9`) {
		t.Fatalf("want the drop count as the last line:\n%s", text)
	}
	log.Info("after") // direct again
	if !strings.Contains(g.String(), "msg=after") {
		t.Fatalf("a record after the logger stopped was not written:\n%s", g.String())
	}
}

func TestExitDeadlineDropsWhatIsLeftAndCountsIt(t *testing.T) {
	g := newGate(t)
	h := logger.NewHandler(slog.NewTextHandler(g, nil))
	log := slog.New(h)
	sys, a := start(t, h)
	h.Attach(sys, a)
	log.Info("first")
	g.blocked(t) // a stderr too slow for the shutdown deadline
	for i := 0; i < 49; i++ {
		log.Info("late", "i", i)
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	if err := h.Exit(deadline); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the deadline passed", func() bool { return time.Now().After(deadline) })
	g.release()
	stopped(t, sys, a)
	text := strings.TrimSuffix(g.String(), "\n")
	lines := strings.Split(text, "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=first") ||
		!strings.Contains(lines[1], `msg="logger: 49 records dropped" queue_full=0 unwritten=49`) {
		t.Fatalf("want the record being written, then the drop count:\n%s", text)
	}
}

func TestCallsAreAnswered(t *testing.T) {
	var out testutil.Buffer
	h := logger.NewHandler(slog.NewTextHandler(&out, nil))
	sys, a := start(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := sys.Call(ctx, a, "x")
	if !errors.Is(err, actor.ErrNoCommand) {
		t.Fatalf("call to the logger: %v; want ErrNoCommand", err)
	}
	var ae *actor.Error
	if !errors.As(err, &ae) || ae.Name != "logger" || ae.Addr != a || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("the error does not name the logger, its address and the command: %v", err)
	}
	if _, err := sys.Call(ctx, a, "exit"); err != nil {
		t.Fatalf("call exit: %v", err)
	}
	stopped(t, sys, a)
}
