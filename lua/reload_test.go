package lua_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
	"go.uber.org/goleak"
)

// counterSrc is a counter whose version is what the reload changes; it
// carries its count and the last number it got through on_save and
// on_restore, and checks that numbers come in order.
func counterSrc(version string) string {
	return `local tern = require "tern"
local count, last, bad = 0, 0, 0
local S = {}
function S.add(i)
	count = count + 1
	if i ~= last + 1 then bad = bad + 1 end
	last = i
end
function S.get() return count, last, bad end
function S.version() return "` + version + `" end
function S.hold(ms) tern.sleep(ms) return "held" end
tern.on_save(function() return {count = count, last = last, bad = bad} end)
tern.on_restore(function(st) count, last, bad = st.count, st.last, st.bad end)
return S
`
}

// reloadEnv is a runtime over a temporary script directory the test
// edits.
func reloadEnv(t *testing.T) (*env, string) {
	t.Helper()
	dir := t.TempDir()
	return newEnvPath(t, filepath.Join(dir, "?.lua"), "testdata/?.lua"), dir
}

func writeScript(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func reloadNow(e *env, a actor.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.sys.Reload(ctx, a)
}

// A reload keeps the address and, through on_save and on_restore, the
// state; the new code serves.
func TestReloadKeepsAddressAndState(t *testing.T) {
	e, dir := reloadEnv(t)
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	a := e.launch(t, "counter")
	for i := 1; i <= 10; i++ {
		if err := e.sys.Send(a, "add", i); err != nil {
			t.Fatal(err)
		}
	}
	writeScript(t, dir, "counter.lua", counterSrc("v2"))
	if err := reloadNow(e, a); err != nil {
		t.Fatal(err)
	}
	if res := e.call(t, a, "version"); res[0] != "v2" {
		t.Fatalf("version after reload: %v", res)
	}
	if res := e.call(t, a, "get"); res[0] != int64(10) || res[1] != int64(10) || res[2] != int64(0) {
		t.Fatalf("state after reload: %v", res)
	}
}

// A reload that fails (a syntax error, a raising start or on_restore)
// keeps the old VM serving, untouched, and says why.
func TestReloadFailureKeepsOldVM(t *testing.T) {
	e, dir := reloadEnv(t)
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	a := e.launch(t, "counter")
	e.sys.Send(a, "add", 1)
	for _, c := range []struct{ src, want string }{
		{"local x = = 1", "syntax error"},
		{strings.Replace(counterSrc("v2"), "return S", "error('no start')\nreturn S", 1), "no start"},
		{strings.Replace(counterSrc("v2"), "count, last, bad = st.count", "error('no restore') count, last, bad = st.count", 1), "no restore"},
	} {
		writeScript(t, dir, "counter.lua", c.src)
		err := reloadNow(e, a)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "counter(") {
			t.Fatalf("reload of a broken script: %v, want %q", err, c.want)
		}
		if res := e.call(t, a, "version"); res[0] != "v1" {
			t.Fatalf("the old VM no longer serves: %v", res)
		}
		if res := e.call(t, a, "get"); res[0] != int64(1) {
			t.Fatalf("the old VM's state changed: %v", res)
		}
	}
}

// A caller waiting on a coroutine of the old VM gets an error that says
// it was reloaded; the old coroutine's timer goes with it.
func TestReloadFailsPendingCallers(t *testing.T) {
	e, dir := reloadEnv(t)
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	a := e.launch(t, "counter")
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := e.sys.Call(ctx, a, "hold", 3600000)
		errc <- err
	}()
	testutil.Eventually(t, 5*time.Second, "the hold call suspended", func() bool { return e.sys.PendingTimers() > 0 })
	writeScript(t, dir, "counter.lua", counterSrc("v2"))
	if err := reloadNow(e, a); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, lua.ErrReloaded) || !strings.Contains(err.Error(), "reloaded") {
		t.Fatalf("pending caller: %v", err)
	}
}

// The compile cache serves the new source after an edit of the same
// length within the same modification time.
func TestReloadSeesSameSizeSameTimeEdits(t *testing.T) {
	e, dir := reloadEnv(t)
	path := filepath.Join(dir, "counter.lua")
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	a := e.launch(t, "counter")
	writeScript(t, dir, "counter.lua", counterSrc("v2")) // same length
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := reloadNow(e, a); err != nil {
		t.Fatal(err)
	}
	if res := e.call(t, a, "version"); res[0] != "v2" {
		t.Fatalf("version after an edit of the same size and time: %v", res)
	}
}

// Reloading a Go service is an error that says so.
func TestReloadGoService(t *testing.T) {
	e, _ := reloadEnv(t)
	a, err := e.sys.Launch(context.Background(), actor.Handlers{}, actor.SpawnOptions{Name: "gosvc"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reloadNow(e, a); !errors.Is(err, actor.ErrNoReload) || !strings.Contains(err.Error(), "gosvc(") {
		t.Fatalf("reload of a Go service: %v", err)
	}
}

// tern.reload(addr) from Lua. (tern.reload({script = ...}) needs the name
// service's list: root/reload_test.go.)
func TestReloadFromLua(t *testing.T) {
	e, dir := reloadEnv(t)
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	writeScript(t, dir, "reloader.lua", `local tern = require "tern"
local S = {}
function S.spawn(n)
	local h = {}
	for i = 1, n do h[i] = tern.newservice("counter") end
	return h
end
function S.reloadall(script)
	local n, failed = tern.reload({script = script})
	local f = 0
	for _ in pairs(failed) do f = f + 1 end
	return n, f
end
function S.reload(x) return tern.reload(x) end
return S
`)
	r := e.launch(t, "reloader")
	res := e.call(t, r, "spawn", 3)
	addrs := res[0].([]any)
	writeScript(t, dir, "counter.lua", counterSrc("v2"))
	for _, a := range addrs {
		if res := e.call(t, r, "reload", a); res[0] != true {
			t.Fatalf("tern.reload: %v", res)
		}
		if res := e.call(t, actor.Addr(a.(int64)), "version"); res[0] != "v2" {
			t.Fatalf("version: %v", res)
		}
	}
	if _, err := e.try(r, "reload", int64(999999)); err == nil || !strings.Contains(err.Error(), "no such service") {
		t.Fatalf("reload of nothing: %v", err)
	}
}

// 1,000 reloads leave the heap and the goroutines where they were.
func TestReloadLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e, dir := reloadEnv(t)
	writeScript(t, dir, "counter.lua", counterSrc("v1"))
	a := e.launch(t, "counter")
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for i := 0; i < 50; i++ { // warm up: pools, caches
		if err := reloadNow(e, a); err != nil {
			t.Fatal(err)
		}
	}
	before := heap()
	for i := 0; i < 1000; i++ {
		e.sys.Send(a, "add", i+1)
		if err := reloadNow(e, a); err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	if after > before+1<<20 {
		t.Fatalf("heap grew by %d bytes over 1,000 reloads", after-before)
	}
	if res := e.call(t, a, "get"); res[0] != int64(1000) {
		t.Fatalf("count after 1,000 reloads: %v", res)
	}
	e.close()
}
