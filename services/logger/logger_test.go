package logger_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/services/logger"
)

func TestRecordsGoThroughTheLoggerInOrder(t *testing.T) {
	var out testutil.Buffer
	h := logger.NewHandler(slog.NewTextHandler(&out, nil))
	log := slog.New(h).With("svc", "x")
	sys := actor.NewSystem(actor.Options{})
	defer sys.Close(context.Background())
	a, err := sys.Launch(context.Background(), logger.Service{}, actor.SpawnOptions{Name: "logger"})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("before attach")
	h.Attach(sys, a)
	for i := 0; i < 100; i++ {
		log.Info("line", "i", i)
	}
	// "exit" is handled after every record queued before it
	if err := sys.Send(a, "exit"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "logger stopped", func() bool { _, ok := sys.Info(a); return !ok })
	log.Info("after the logger") // written directly: the logger is gone
	text := out.String()
	last := -1
	for i := 0; i < 100; i++ {
		at := strings.Index(text, fmt.Sprintf("msg=line svc=x i=%d\n", i))
		if at < last {
			t.Fatalf("line %d missing or out of order:\n%s", i, text)
		}
		last = at
	}
	if !strings.Contains(text, "before attach") || !strings.Contains(text, "after the logger") {
		t.Fatalf("direct writes missing:\n%s", text)
	}
}
