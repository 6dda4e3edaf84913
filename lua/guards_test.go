package lua_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/lua"
)

// newCapEnv is newEnv with a cap on each service's tasks.
func newCapEnv(t testing.TB, maxTasks int) *env {
	t.Helper()
	return newEnvConfig(t, lua.Config{MaxTasks: maxTasks})
}

// A recursion 10,000 deep works (it stopped at about 254 frames with a
// bare "lua callstack overflow"); past lua.MaxCallDepth it raises an error
// with the script's line, the log gets the traceback, and the service
// goes on.
func TestRecursionDepth(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "runaway")
	for _, n := range []int{10_000, 150_000} {
		if res := e.call(t, a, "recurse", n); res[0] != int64(n) {
			t.Fatalf("recurse %d: %v", n, res)
		}
	}
	start := time.Now()
	_, err := e.try(a, "recurse", 1_000_000)
	want := regexp.MustCompile(`runaway\.lua:\d+: stack overflow \(Lua calls nested deeper than 200000\)`)
	if err == nil || !want.MatchString(err.Error()) {
		t.Fatalf("recurse 1e6: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("recurse 1e6 took %v", d)
	}
	if log := e.log.String(); !strings.Contains(log, "stack traceback:") || !strings.Contains(log, "in function 'depth'") {
		t.Errorf("no traceback logged:\n%.2000s", log)
	}
	if res := e.call(t, a, "ping"); res[0] != "pong" {
		t.Fatalf("ping after the overflow: %v", res)
	}
	// Caught by pcall, the same message.
	res := e.call(t, a, "recurse_pcall", 1_000_000)
	if res[0] != false || !want.MatchString(res[1].(string)) {
		t.Fatalf("recurse_pcall 1e6: %v", res)
	}
	// And the recursion works again in the same service.
	if res := e.call(t, a, "recurse", 10_000); res[0] != int64(10_000) {
		t.Fatalf("recurse again: %v", res)
	}
	// Frames of 30 locals: the value stack runs out first, and says so.
	res = e.call(t, a, "wide", 50_000)
	if res[0] != true || res[1] != "50000" {
		t.Errorf("wide 5e4: %v", res)
	}
	res = e.call(t, a, "wide", 1_000_000)
	if res[0] != false || !regexp.MustCompile(`runaway\.lua:\d+: registry overflow \(a coroutine's value stack holds at most 4194304 values\)`).MatchString(res[1].(string)) {
		t.Errorf("wide 1e6: %v", res)
	}
	// debug.traceback deep down is linear (gopher-lua's is quadratic).
	start = time.Now()
	res = e.call(t, a, "traceback", 100_000)
	tb, _ := res[0].(string)
	if !strings.HasPrefix(tb, "here\nstack traceback:\n") || !strings.Contains(tb, "\t...\n") || strings.Count(tb, "\n") != 16 {
		t.Errorf("traceback:\n%s", tb)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("traceback 1e5 deep took %v", d)
	}
}

// unpack is linear, and refuses more than lua.MaxUnpack values at once
// instead of growing the stack for a long while.
func TestUnpackLimit(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "runaway")
	if res := e.call(t, a, "unpack", 100_000); res[0] != int64(100_000) {
		t.Fatalf("unpack 1e5: %v", res)
	}
	if res := e.call(t, a, "unpack_sum", 100_000); res[0] != int64(1) || res[1] != int64(2) || res[2] != int64(100_000) {
		t.Fatalf("unpack_sum 1e5: %v", res)
	}
	if res := e.call(t, a, "unpack", lua.MaxUnpack); res[0] != int64(lua.MaxUnpack) {
		t.Fatalf("unpack MaxUnpack: %v", res)
	}
	for _, n := range []float64{1e8, lua.MaxUnpack + 1, 1e300} {
		start := time.Now()
		_, err := e.try(a, "unpack", n)
		if err == nil || !strings.Contains(err.Error(), "too many results to unpack") || !strings.Contains(err.Error(), "runaway.lua:") {
			t.Errorf("unpack %g: %v", n, err)
		}
		if d := time.Since(start); d > 5*time.Second { // a quadratic unpack takes minutes
			t.Errorf("unpack %g took %v", n, d)
		}
	}
	// string.rep past lua.MaxStringRep raises too (it asked Go for the
	// memory, which kills the process when refused).
	if res := e.call(t, a, "rep", "ab", 3); res[0] != int64(6) || res[1] != int64(6) {
		t.Errorf("rep ab 3: %v", res)
	}
	if res := e.call(t, a, "rep", "ab", -1); res[0] != int64(0) {
		t.Errorf("rep ab -1: %v", res)
	}
	for _, n := range []float64{1e10, 1e18, 1e300} {
		res := e.call(t, a, "rep", "ab", n)
		for _, r := range res {
			if s, _ := r.(string); !strings.Contains(s, "resulting string too large") || !strings.Contains(s, "runaway.lua:") {
				t.Errorf("rep ab %g: %v", n, res)
			}
		}
	}
	if res := e.call(t, a, "ping"); res[0] != "pong" {
		t.Fatalf("ping: %v", res)
	}
}

// BenchmarkUnpack: one op is unpack of 1e5 values (in one call).
func BenchmarkUnpack(b *testing.B) {
	e := newEnv(b)
	a := e.launch(b, "runaway")
	for b.Loop() {
		e.call(b, a, "unpack", 100_000)
	}
}

// pcall nested in pcall crashed the process past about 1.5M levels (a Go
// stack overflow); now each nesting of pcall, xpcall and coroutine.resume
// past lua.MaxNesting raises, and Go re-entry through metamethods and
// callbacks (__index, __tostring, table.sort) stops at the call depth.
func TestNestingLimit(t *testing.T) {
	e := newEnv(t)
	a := e.launch(t, "runaway")
	nesting := regexp.MustCompile(`runaway\.lua:\d+: pcall nesting too deep \(more than 10000 levels`)
	res := e.call(t, a, "pcalls", 1_000_000)
	if res[0] != false || !nesting.MatchString(res[1].(string)) || res[2] != int64(lua.MaxNesting) {
		t.Errorf("pcalls 1e6: %v", res)
	}
	if res := e.call(t, a, "pcalls", 5_000); res[0] != true || res[1] != "bottom" {
		t.Errorf("pcalls 5000: %v", res)
	}
	if res := e.call(t, a, "pcall_forever"); res[0] != int64(lua.MaxNesting+1) {
		t.Errorf("pcall_forever: %v", res)
	}
	for _, cmd := range []string{"xpcall_forever", "resume_forever"} {
		res := e.call(t, a, cmd)
		if res[0] != int64(lua.MaxNesting+1) || !nesting.MatchString(res[1].(string)) {
			t.Errorf("%s: %v", cmd, res)
		}
	}
	if res := e.call(t, a, "mixed_forever"); res[0] != false || !nesting.MatchString(res[1].(string)) {
		t.Errorf("mixed_forever: %v", res)
	}
	overflow := regexp.MustCompile(`runaway\.lua:\d+: stack overflow \(Lua calls nested deeper than 200000\)`)
	for _, cmd := range []string{"index_forever", "tostring_forever", "sort_forever"} {
		if res := e.call(t, a, cmd); res[0] != false || !overflow.MatchString(res[1].(string)) {
			t.Errorf("%s: %v", cmd, res)
		}
	}
	if res := e.call(t, a, "ping"); res[0] != "pong" {
		t.Fatalf("ping: %v", res)
	}
}

// A service at its task cap refuses new requests at once: a call fails
// with "service overloaded", a send is dropped with a warning naming the
// service, the command and the sender. The tasks under way go on, and
// once they end the service accepts again.
func TestTaskCap(t *testing.T) {
	const max = 100
	e := newCapEnv(t, max)
	target := e.launch(t, "runaway")
	flooder := e.launch(t, "runaway")
	e.call(t, flooder, "hold_flood", target, max+50)
	// Queued behind the sends: the target has max tasks waiting for the
	// flooder's release.
	_, err := e.try(target, "ping")
	if !errors.Is(err, lua.ErrOverloaded) && (err == nil || !strings.Contains(err.Error(), "service overloaded")) {
		t.Fatalf("ping at the cap: %v", err)
	}
	if !strings.Contains(err.Error(), `call "ping": service overloaded (100 tasks under way`) {
		t.Errorf("ping at the cap: %v", err)
	}
	res := e.call(t, flooder, "call_sleep", target, 1)
	if res[0] != false || !strings.Contains(res[1].(string), "service overloaded") {
		t.Errorf("call from Lua at the cap: %v", res)
	}
	log := e.log.String()
	if !strings.Contains(log, "service overloaded: send dropped") || !strings.Contains(log, "cmd=hold") || !strings.Contains(log, "from="+flooder.String()) || !strings.Contains(log, "max_tasks=100") {
		t.Errorf("no warning for the dropped sends:\n%.3000s", log)
	}
	if n := strings.Count(log, "service overloaded: send dropped"); n > 2 {
		t.Errorf("%d warnings for 50 dropped sends: not rate-limited", n)
	}
	// The held tasks finish; then the service accepts again.
	e.call(t, flooder, "release")
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := e.try(target, "ping")
		if err == nil && res[0] == "pong" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res := e.call(t, flooder, "call_sleep", target, 1); res[0] != true {
		t.Errorf("call after recovery: %v", res)
	}
	// Up to the cap again, every request is taken.
	e.call(t, flooder, "flood", target, max-1, 200)
	if res := e.call(t, target, "ping"); res[0] != "pong" {
		t.Errorf("ping under the cap: %v", res)
	}
}
