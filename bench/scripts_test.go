package bench

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
)

// lockedBuffer collects log lines from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestScripts runs the command-line benchmark scripts (bench/*.lua, meant
// for `tern run`) as bootstraps, small: each must print its figure and
// end with tern.shutdown().
func TestScripts(t *testing.T) {
	for _, c := range []struct {
		script string
		args   []any
		want   string // in the printed line
	}{
		{"call.lua", []any{1000}, `call: 1000 calls in \d+ ms: \d+ calls/s`},
		{"send.lua", []any{2500}, `send: 2500 messages in \d+ ms: \d+ msgs/s`},
		{"spawn.lua", []any{50}, `spawn: 50 services in \d+ ms: \d+ services/s`},
		{"timers.lua", []any{50, 5, 2}, `timers: 50 services x 5 timeouts of 2 ms in \d+\.\d+ s \(ideal 0\.010 s\)`},
	} {
		t.Run(c.script, func(t *testing.T) {
			var log lockedBuffer
			sys := actor.NewSystem(actor.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			codes := make(chan int, 1)
			rt := lua.New(sys, lua.Config{Shutdown: func(code int) { codes <- code }})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := rt.Launch(ctx, c.script, c.args...)
			if cerr := sys.Close(ctx); cerr != nil {
				t.Errorf("close: %v", cerr)
			}
			if err != nil {
				t.Fatalf("%s: %v\nlog:\n%s", c.script, err, log.String())
			}
			select {
			case code := <-codes:
				if code != 0 {
					t.Errorf("shutdown code %d", code)
				}
			default:
				t.Errorf("no tern.shutdown()")
			}
			if !regexp.MustCompile(c.want).MatchString(log.String()) {
				t.Errorf("log lacks %q:\n%s", c.want, log.String())
			}
			if strings.Contains(log.String(), "may overload") {
				t.Errorf("overload warnings:\n%s", log.String())
			}
		})
	}
}
