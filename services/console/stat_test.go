package console

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stat shows each service's statistics as a scripted workload implies:
// messages in and out, errors; info shows them too.
func TestStatCounts(t *testing.T) {
	rt, _ := startRT(t)
	echo := load(t, rt, "echo", "echo")
	s := startConsole(t, rt, false)
	cl := dial(t, s)

	row := func() []string {
		t.Helper()
		for _, l := range strings.Split(cl.ok("stat"), "\n") {
			if f := strings.Split(l, "\t"); f[0] == echo {
				if len(f) != 10 || f[1] != "echo" {
					t.Fatalf("stat row %q", l)
				}
				return f
			}
		}
		t.Fatal("echo not in stat")
		return nil
	}
	n := func(f []string, i int) uint64 {
		t.Helper()
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			t.Fatalf("stat column %d: %q", i, f[i])
		}
		return v
	}
	// The counts of load's turns, once published.
	before := row()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		again := row()
		if again[4] == before[4] && again[5] == before[5] {
			break
		}
		before = again
	}
	for i := range 5 {
		if got := cl.ok(fmt.Sprintf("call echo add %d 1", i)); got != strconv.Itoa(i+1) {
			t.Fatalf("add: %q", got)
		}
	}
	cl.fails("call echo fail", "failed on purpose")
	cl.fails("call echo fail", "failed on purpose")
	// A service publishes its counters at the end of its turn, just after
	// the answer it sent may have reached the caller: wait for the last
	// turn's counts (before was taken the same way: load's ready reply
	// came from a turn that may not have ended).
	want := func(f []string) bool {
		return n(f, 4)-n(before, 4) == 7 && n(f, 5)-n(before, 5) == 7 && n(f, 6)-n(before, 6) == 2
	}
	after := row()
	for deadline := time.Now().Add(5 * time.Second); !want(after) && time.Now().Before(deadline); after = row() {
		time.Sleep(time.Millisecond)
	}
	// Columns: addr name queued peak handled sent errors busy tasks memory.
	if n(after, 2) != 0 || n(after, 3) < 1 {
		t.Errorf("queued %s, peak %s", after[2], after[3])
	}
	for _, c := range []struct {
		col  int
		what string
		want uint64
	}{{4, "handled", 7}, {5, "sent", 7}, {6, "errors", 2}} {
		if d := n(after, c.col) - n(before, c.col); d != c.want {
			t.Errorf("%s grew by %d, want %d", c.what, d, c.want)
		}
	}
	if _, err := strconv.ParseFloat(after[7], 64); err != nil {
		t.Errorf("busy %q", after[7])
	}
	if after[8] != "0" {
		t.Errorf("tasks %q", after[8])
	}
	contains(t, "info", cl.ok("info echo"), "peak\t", "sent\t", "errors\t"+after[6], "busy\t", "tasks\t0", "reloads\t0")
}
