package ratelog

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
)

// clock is a fake time source for a Limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLog() (*slog.Logger, *testutil.Buffer) {
	var out testutil.Buffer
	return slog.New(slog.NewTextHandler(&out, nil)), &out
}

var repeatedRE = regexp.MustCompile(`(repeated|suppressed)=(\d+)`)

// tally counts the lines with msg in text and the lines they stand for:
// one each, plus their repeated=N; an overflow line stands for its
// suppressed=N only.
func tally(t *testing.T, text, msg string) (lines, total int) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, msg) {
			continue
		}
		lines++
		if !strings.Contains(l, Overflow) {
			total++
		}
		if m := repeatedRE.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	return lines, total
}

func TestFirstLineThenOnePerWindowWithCount(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	l := &Limiter{now: clk.now, Every: time.Hour} // the timer never fires here
	log, out := newLog()
	for i := 0; i < 1000; i++ {
		l.Warn(log, "send dropped", "db", "name", "db")
	}
	l.Warn(log, "send dropped", "cache", "name", "cache") // another key
	if lines, _ := tally(t, out.String(), "send dropped"); lines != 2 {
		t.Fatalf("want the first line of each key only, got %d:\n%s", lines, out)
	}
	clk.add(time.Hour)
	l.Warn(log, "send dropped", "db", "name", "db")
	text := out.String()
	if !strings.Contains(text, "name=db repeated=999\n") {
		t.Fatalf("want the next window's line to carry repeated=999:\n%s", text)
	}
	if lines, total := tally(t, text, "name=db"); lines != 2 || total != 1001 {
		t.Fatalf("lines %d, total %d; want 2 lines standing for 1001:\n%s", lines, total, text)
	}
}

func TestTheTimerReportsTheLastWindow(t *testing.T) {
	l := &Limiter{Every: 20 * time.Millisecond}
	log, out := newLog()
	for i := 0; i < 101; i++ {
		l.Warn(log, "flood", "k", "i", i)
	}
	// no further line comes: the shared timer must report the 100
	testutil.Eventually(t, 5*time.Second, "the suppressed lines reported", func() bool {
		_, total := tally(t, out.String(), "flood")
		return total == 101
	})
	text := out.String()
	if lines, _ := tally(t, text, "flood"); lines != 2 || !strings.Contains(text, "i=100 repeated=99\n") {
		t.Fatalf("want the first line, then the last suppressed one with repeated=99:\n%s", text)
	}
}

func TestSteadyFloodIsOneLinePerWindowAndNothingIsLost(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	l := &Limiter{now: clk.now, Every: time.Second}
	log, out := newLog()
	const n = 10000
	for i := 0; i < n; i++ { // 10 s of one line per ms
		l.Warn(log, "flood", "k")
		clk.add(time.Millisecond)
	}
	l.Flush()
	lines, total := tally(t, out.String(), "flood")
	if total != n {
		t.Fatalf("lines stand for %d, want %d:\n%s", total, n, out)
	}
	if lines > 11+1 { // one per second, the first, and the flush
		t.Fatalf("%d lines for 10 s of flood:\n%s", lines, out)
	}
}

func TestKeysAreBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	l := &Limiter{now: clk.now, Every: time.Hour, MaxKeys: 10}
	log, out := newLog()
	for i := 0; i < 1000; i++ {
		l.Warn(log, "unknown name", fmt.Sprint("name", i), "name", i)
	}
	if l.Len() > 10 {
		t.Fatalf("%d keys tracked, want at most 10", l.Len())
	}
	l.Flush()
	text := out.String()
	if lines, _ := tally(t, text, `msg="unknown name"`); lines != 10 {
		t.Fatalf("want the first 10 keys' lines, got %d:\n%s", lines, text)
	}
	// the timer may have reported part of the overflow before the flush
	testutil.Eventually(t, 5*time.Second, "the overflow reported with suppressed=990 in all", func() bool {
		_, over := tally(t, out.String(), Overflow)
		return over == 990
	})
	// once the windows are over, new keys are tracked again
	clk.add(time.Hour)
	l.Warn(log, "unknown name", "late", "name", "late")
	if !strings.Contains(out.String(), "name=late") {
		t.Fatalf("a new key after the windows ended was suppressed:\n%s", out)
	}
}

func TestConcurrentUse(t *testing.T) {
	l := &Limiter{Every: 5 * time.Millisecond, MaxKeys: 8}
	log, out := newLog()
	var wg sync.WaitGroup
	const workers, each = 4, 2000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				l.Warn(log, "race", fmt.Sprint(i%16))
			}
		}(w)
	}
	wg.Wait()
	l.Flush()
	// the timer may still be writing what it swept before the flush
	testutil.Eventually(t, 5*time.Second, "every line accounted for", func() bool {
		text := out.String()
		_, total := tally(t, text, "msg=race")
		_, over := tally(t, text, Overflow)
		if total+over > workers*each {
			t.Fatalf("lines stand for %d, more than %d:\n%s", total+over, workers*each, text)
		}
		return total+over == workers*each
	})
}

func TestDisabledLevelIsNotCounted(t *testing.T) {
	var out testutil.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError}))
	l := &Limiter{}
	for i := 0; i < 10; i++ {
		l.Warn(log, "quiet", "k")
	}
	if l.Len() != 0 || out.String() != "" {
		t.Fatalf("a disabled level was tracked or written: %d keys, %q", l.Len(), out.String())
	}
}
