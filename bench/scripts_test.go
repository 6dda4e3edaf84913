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
// for `tern run`, the tern side of bench/vs-skynet.sh) as bootstraps,
// small: each must print its RESULT line and end with tern.shutdown().
// Their options are a "key=value ..." string, given here as the argument.
func TestScripts(t *testing.T) {
	const num = `\d+(\.\d+)?`
	for _, c := range []struct {
		script string
		args   []any
		want   string // in the log
	}{
		{"call.lua", []any{"n=1000 co=1"}, `RESULT call threads=\S+ calls_per_sec=\d+ co=1 n=1000 sec=` + num + ` us_per_call=` + num},
		{"call.lua", []any{"n=1000 co=10"}, `RESULT call threads=\S+ calls_per_sec=\d+ co=10 n=1000 sec=` + num + ` us_per_call=` + num},
		{"send.lua", []any{"n=1000 senders=1"}, `RESULT send threads=\S+ msgs_per_sec=\d+ n=1000 recv_span_sec=` + num + ` sec=` + num + ` senders=1`},
		{"send.lua", []any{"n=1000 senders=4"}, `RESULT send threads=\S+ msgs_per_sec=\d+ n=1000 recv_span_sec=` + num + ` sec=` + num + ` senders=4`},
		{"spawn.lua", []any{"n=50 hold=1"}, `(?s)MARK rss_before.*MARK rss_after.*RESULT spawn threads=\S+ n=50 sec=` + num + ` spawn_per_sec=\d+ us_per_spawn=` + num},
		{"timers.lua", []any{"services=50 rounds=5 ms=2"}, `RESULT timer threads=\S+ ideal_sec=0\.010 overhead_pct=-?` + num + ` per_service_avg_sec=` + num + ` per_service_max_sec=` + num + ` rounds=5 sec=` + num + ` services=50 timers=250`},
		{"ring.lua", []any{"n=20 hops=1000 tokens=1"}, `RESULT ring threads=\S+ hops=1000 hops_per_sec=\d+ n=20 sec=` + num + ` tokens=1 us_per_hop=` + num},
		{"ring.lua", []any{"n=20 hops=1000 tokens=4"}, `RESULT ring threads=\S+ hops=1000 hops_per_sec=\d+ n=20 sec=` + num + ` tokens=4 us_per_hop=` + num},
	} {
		t.Run(c.script+" "+c.args[0].(string), func(t *testing.T) {
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
