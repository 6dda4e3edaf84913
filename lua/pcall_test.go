package lua_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// pcall and xpcall run the protected function in a pooled coroutine; the
// script must not see it: coroutine.running() is the caller's coroutine.
func TestPcallKeepsCoroutineIdentity(t *testing.T) {
	e := newEnv(t)
	p := e.launch(t, "pcall_identity")
	res := e.call(t, p, "identity")
	want := []any{true, "running", true, true, true, "running", "normal", "dead"}
	if !reflect.DeepEqual(res[0], want) {
		t.Fatalf("identity:\n got %#v\nwant %#v", res[0], want)
	}
	res = e.call(t, p, "resume_refused")
	refused := []any{false, "cannot resume non-suspended coroutine"}
	if !reflect.DeepEqual(res[0], []any{refused, refused}) {
		t.Fatalf("resume of a task or a running coroutine: %#v", res[0])
	}
}

// tern.wait() inside pcall waits on the task's identity, so a wakeup with
// coroutine.running() of the task finds it (it used to hang).
func TestPcallWaitDefaultToken(t *testing.T) {
	e := newEnv(t)
	p := e.launch(t, "pcall_identity")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := e.sys.Call(ctx, p, "wait_in_pcall")
	if err != nil {
		t.Fatalf("pcall(tern.wait): %v", err)
	}
	if !reflect.DeepEqual(res, []any{true, true, true}) {
		t.Fatalf("pcall(tern.wait): %#v", res)
	}
	res, err = e.sys.Call(ctx, p, "wait_in_coroutine")
	if err != nil || !reflect.DeepEqual(res, []any{"woken"}) {
		t.Fatalf("pcall(tern.wait) in a coroutine: %#v, %v", res, err)
	}
}

// coroutine.yield inside pcall: outside a script coroutine it raises an
// error pcall catches (it used to kill the task); inside one, it yields it.
func TestPcallYield(t *testing.T) {
	e := newEnv(t)
	p, a := e.launch(t, "pcall_identity"), e.launch(t, "echo")
	res := e.call(t, p, "yield_outside")
	for i, r := range res[0].([]any) {
		r := r.([]any)
		want := fmt.Sprintf("testdata/pcall_identity.lua:%d: attempt to yield from outside a coroutine", r[0])
		if i == 1 {
			want = "handled: " + want
		}
		if r[1] != false || r[2] != want {
			t.Errorf("yield %d outside a coroutine: %#v, want false, %q", i+1, r[1:], want)
		}
	}
	res = e.call(t, p, "yield_in_coroutine", a)
	want := []any{
		[]any{true, int64(2)},
		[]any{true, int64(50)},
		[]any{true, true, true, int64(7)},
		"dead",
	}
	if !reflect.DeepEqual(res[0], want) {
		t.Fatalf("yield in pcall in a coroutine:\n got %#v\nwant %#v", res[0], want)
	}
	res = e.call(t, p, "generator", a)
	if !reflect.DeepEqual(res[0], []any{int64(101), int64(102), int64(103)}) {
		t.Fatalf("generator yielding in pcall: %#v", res[0])
	}
}

// The cost of pcall and xpcall on the way of a call, and alone; and of a
// script coroutine's life (create, one resume, end).
func BenchmarkPcall(b *testing.B) {
	for _, bc := range []struct {
		name, cmd string
		target    bool
	}{{"Call", "pcall_calls", true}, {"Local", "pcall_local", false}, {"XpcallLocal", "xpcall_local", false}, {"CoroutineWrap", "wrap_local", false}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b)
			p, q := e.launch(b, "pcall_identity"), e.launch(b, "pcall_identity")
			args := []any{b.N}
			if bc.target {
				args = []any{q, b.N}
			}
			b.ReportAllocs()
			b.ResetTimer()
			res := e.call(b, p, bc.cmd, args...)
			b.StopTimer()
			if res[0] != int64(b.N) {
				b.Fatalf("%s: %v of %d", bc.cmd, res[0], b.N)
			}
		})
	}
}
