package lua_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
)

// limitsEnv is newEnv with a name service (for tern.query), a shutdown
// hook that records the codes, and a message cap of maxMessage bytes.
type limitsEnv struct {
	*env
	codes chan int
}

func newLimitsEnv(t *testing.T, maxMessage int) *limitsEnv {
	t.Helper()
	log := &testutil.Buffer{}
	sys := actor.NewSystem(actor.Options{Logger: slog.New(slog.NewTextHandler(log, nil))})
	codes := make(chan int, 16)
	rt := lua.New(sys, lua.Config{
		Path:       []string{"testdata/?.lua", "testdata/lib/?.lua"},
		Shutdown:   func(code int) { codes <- code },
		MaxMessage: maxMessage,
	})
	table := names.NewTable()
	start := func(script string, args []byte, _ *actor.Limits, readyTo actor.Addr, session uint32) (actor.Addr, error) {
		return rt.Start(script, args, "", actor.SpawnOptions{ReadyTo: readyTo, ReadySession: session})
	}
	na, err := sys.Spawn(names.New(table, start, nil), actor.SpawnOptions{Name: "names", Script: "go:names"})
	if err != nil {
		t.Fatal(err)
	}
	rt.SetNames(na, table.Lookup)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	})
	return &limitsEnv{env: &env{sys: sys, rt: rt, log: log, close: func() {}}, codes: codes}
}

// checkAll compares what each attempt gave (a table from limits.lua)
// with the substrings wanted.
func checkAll(t *testing.T, what string, got any, want map[string]string) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok {
		t.Fatalf("%s: %#v", what, got)
	}
	for k, w := range want {
		g, _ := m[k].(string)
		if !strings.Contains(g, w) {
			t.Errorf("%s %s:\n got %q\nwant %q", what, k, g, w)
		}
	}
	if len(m) != len(want) {
		t.Errorf("%s: %d results, want %d: %v", what, len(m), len(want), m)
	}
}

// Durations that overflowed time.Duration (or were NaN) acted as zero;
// now they raise, naming the function and the argument.
func TestLimitsDurations(t *testing.T) {
	e := newLimitsEnv(t, 0)
	a := e.launch(t, "limits")
	want := map[string]string{
		"sleep -5": "ok", "sleep 0.5": "ok", "calltimeout 1000": "ok",
	}
	bad := map[string]string{
		"inf":   "inf is not a finite duration",
		"-inf":  "-inf is not a finite duration",
		"nan":   "nan is not a finite duration",
		"huge":  "1.7976931348623157e+308 is longer than the maximum of 2592000000 ms (30 days)",
		"1e13":  "10000000000000 is longer than the maximum of 2592000000 ms (30 days)",
		"max+1": "2592000001 is longer than the maximum of 2592000000 ms (30 days)",
	}
	for v, msg := range bad {
		want["sleep "+v] = "tern.sleep: bad argument #1 (ms): " + msg
		want["timeout "+v] = "tern.timeout: bad argument #1 (ms): " + msg
		want["calltimeout "+v] = "tern.calltimeout: bad argument #1 (ms): " + msg
		want["query "+v] = "bad argument #1 (ms): " + msg // through tern.calltimeout
	}
	checkAll(t, "durations", e.call(t, a, "durations")[0], want)
}

// Addresses were truncated (1.5 called the root, 3.99 the name service)
// or reported as something else; now each says what was passed.
func TestLimitsAddresses(t *testing.T) {
	e := newLimitsEnv(t, 0)
	a := e.launch(t, "limits")
	want := map[string]string{"call self": "ok", "call self string": "ok"}
	for v, msg := range map[string]string{
		"1.5":       "bad address 1.5: not an integer",
		"3.99":      "bad address 3.99: not an integer",
		"-1":        "bad address -1: negative",
		"0":         "bad address 0: no service has address 0",
		"2^48+3":    "bad address 281474976710659: beyond 48 bits",
		"2^48":      "bad address 281474976710656: beyond 48 bits",
		"inf":       "bad address inf: beyond 48 bits",
		"-inf":      "bad address -inf: negative",
		"nan":       "bad address nan: not an integer",
		"huge":      "bad address 1.7976931348623157e+308: beyond 48 bits",
		"1e9":       "no such service",  // well-formed, of this node, nobody's
		"1e13":      "not in a cluster", // of node 2328, and this one is alone
		":00000000": `bad address ":00000000": no service has address 0`,
	} {
		for _, f := range []string{"call ", "send ", "address "} {
			want[f+v] = "bad argument #1 to " // the function as the caller spelled it
			if v != "1e13" && v != "1e9" {
				want[f+v] = "(" + msg + ")"
			}
		}
		if v == "1e13" || v == "1e9" { // a well-formed address nobody has
			want["call "+v], want["send "+v], want["address "+v] = msg, msg, "ok"
		}
	}
	checkAll(t, "addresses", e.call(t, a, "addresses")[0], want)
}

// Exit codes wrapped around (256 exited 0, 2.7 exited 2); now only the
// integers 0-255 are accepted.
func TestLimitsExitCodes(t *testing.T) {
	e := newLimitsEnv(t, 0)
	a := e.launch(t, "limits")
	want := map[string]string{"string": "(number expected, got string)"}
	for _, v := range []string{"256", "258", "2.7", "-1", "inf", "-inf", "nan", "1.7976931348623157e+308", "10000000000000"} {
		want[v] = "tern.shutdown: bad argument #1 (code): " + v + " is not an exit code (an integer from 0 to 255)"
	}
	want["huge"], want["1e13"] = want["1.7976931348623157e+308"], want["10000000000000"]
	delete(want, "1.7976931348623157e+308")
	delete(want, "10000000000000")
	checkAll(t, "codes", e.call(t, a, "codes")[0], want)
	select {
	case code := <-e.codes:
		t.Fatalf("a bad code reached the shutdown hook: %d", code)
	default:
	}
	for _, code := range []int{255, 0, 7} {
		e.call(t, a, "shutdown", code)
		if got := <-e.codes; got != code {
			t.Errorf("tern.shutdown(%d) exits %d", code, got)
		}
	}
}

// A table shared by reference is packed once per reference: 2^40 copies
// of {1} in a few lines. The message cap stops it, naming where.
func TestLimitsMessageSize(t *testing.T) {
	const max = 1 << 20
	e := newLimitsEnv(t, max)
	a := e.launch(t, "limits")
	res := e.call(t, a, "bomb", 40, max+1)
	for i, want := range []string{
		"send " + a.String() + ` "noop": message too large (over 1048576 bytes) at args[1][1][1]`,
		"call " + a.String() + ` "noop": message too large (over 1048576 bytes) at args[2][1][1]`,
		"newservice echo: message too large (over 1048576 bytes) at args[1][1][1]",
		"send " + a.String() + ` "noop": message too large (over 1048576 bytes) at args[1]`,
	} {
		if g, _ := res[i].(string); !strings.Contains(g, want) {
			t.Errorf("bomb %d:\n got %q\nwant %q", i+1, g, want)
		}
	}
	// A message just under the cap goes through.
	if res := e.call(t, a, "bomb", 15, max-100); res[0] != "ok" || res[1] != "ok" || res[2] != "ok" || res[3] != "ok" {
		t.Errorf("2^15 copies, under the cap: %#v", res)
	}

	// Replies: a handler's results, and a deferred response.
	_, err := e.try(a, "bigreply", 40)
	if err == nil || !errors.Is(err, actor.ErrRemote) && !strings.Contains(err.Error(), "message too large") {
		t.Fatalf("big reply: %v", err)
	}
	if !strings.Contains(err.Error(), "cannot return the results: message too large (over 1048576 bytes) at args[1][1]") {
		t.Errorf("big reply: %v", err)
	}
	_, err = e.try(a, "respond_big", 40)
	if err == nil || !strings.Contains(err.Error(), "message too large (over 1048576 bytes) at args[1][1]") {
		t.Errorf("big response: %v", err)
	}

	// From Go: the same cap for Launch's arguments.
	big := []any{1}
	for range 40 {
		big = []any{big, big}
	}
	_, err = e.rt.Launch(t.Context(), "echo", big)
	if !errors.Is(err, pack.ErrTooLarge) || !strings.Contains(err.Error(), "(over 1048576 bytes) at args[1][1][1]") {
		t.Errorf("Launch with 2^40 copies: %v", err)
	}
	// The service is unharmed.
	if res := e.call(t, a, "echo", 1, "two"); len(res) != 2 || res[0] != int64(1) {
		t.Fatalf("after the errors: %#v", res)
	}
}

// Go integers Lua cannot hold exactly were rounded on the way in; now
// the conversion into Lua fails, naming the value.
func TestLimitsIntegers(t *testing.T) {
	e := newLimitsEnv(t, 0)
	a := e.launch(t, "limits")
	for _, tt := range []struct {
		args []any
		want string
	}{
		{[]any{int64(1<<53 + 1)}, "integer 9007199254740993 cannot be held exactly by a Lua number (beyond 2^53) at args[1]"},
		{[]any{"x", map[string]any{"id": int64(-(1<<53 + 1))}}, "integer -9007199254740993 cannot be held exactly by a Lua number (beyond 2^53) at args[2].id"},
		{[]any{[]any{1, []int64{2, math.MaxInt64}}}, "integer 9223372036854775807 cannot be held exactly by a Lua number (beyond 2^53) at args[1][2][2]"},
		{[]any{map[any]any{uint64(1<<60 + 1): true}}, "integer 1152921504606846977 cannot be held exactly by a Lua number (beyond 2^53) at args[1][<key>]"},
	} {
		_, err := e.try(a, "echo", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, pack.ErrRange) && !strings.Contains(err.Error(), `call "echo"`) {
			t.Errorf("echo %v:\n got %v\nwant %s", tt.args, err, tt.want)
		}
	}
	// What Lua holds exactly comes back exactly, as int64 when whole.
	res := e.call(t, a, "echo", int64(1<<53), int64(-(1 << 53)), int64(1<<60), int64(math.MinInt64), 3.0, 2.5)
	want := []any{int64(1 << 53), int64(-(1 << 53)), int64(1 << 60), int64(math.MinInt64), int64(3), 2.5}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("echo: got %#v, want %#v", res, want)
			break
		}
	}
	// Whole numbers out of int64's range come back as float64; an empty
	// table (from an empty slice too) comes back as an empty map.
	res = e.call(t, a, "echo", 0x1p63, 1e300, []any{}, map[string]any{})
	if res[0] != 0x1p63 || res[1] != 1e300 {
		t.Errorf("big floats: %#v", res)
	}
	for _, v := range res[2:] {
		if m, ok := v.(map[string]any); !ok || len(m) != 0 {
			t.Errorf("empty table: %#v", v)
		}
	}
	// Arguments to a new service are checked the same way.
	if _, err := e.rt.Launch(t.Context(), "echo", int64(1<<53+1)); err == nil || !strings.Contains(err.Error(), "integer 9007199254740993 cannot be held exactly") {
		t.Errorf("Launch with 2^53+1: %v", err)
	}
}
