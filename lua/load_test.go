package lua_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
)

// A require cycle says which modules form it, instead of overflowing the
// call stack; a failed module is not recorded as loaded.
func TestRequireCycle(t *testing.T) {
	e := newEnv(t)
	res := e.call(t, e.launch(t, "loading"), "cycle")
	want := "testdata/require_cycle_b.lua:2: require cycle: require_cycle_a -> require_cycle_b -> require_cycle_a"
	for i := 0; i < 4; i += 2 {
		if res[i] != false || !strings.Contains(res[i+1].(string), want) {
			t.Fatalf("require cycle: %#v, want false, %q", res[i:i+2], want)
		}
	}
}

// load, loadstring, loadfile and dofile compile with the generic-for
// rewrite: an iterator in loaded code may make blocking calls.
func TestLoadedCodeIteratorsBlock(t *testing.T) {
	e := newEnv(t)
	a, l := e.launch(t, "echo"), e.launch(t, "loading")
	res := e.call(t, l, "loaded_iterators", a)
	out := []any{int64(11), int64(12), int64(13)}
	if want := []any{out, out, out, out}; !reflect.DeepEqual(res[0], want) {
		t.Fatalf("loaded iterators:\n got %#v\nwant %#v", res[0], want)
	}
}

// loadfile and dofile read only files on the script path.
func TestLoadFileConfined(t *testing.T) {
	e := newEnv(t)
	outside, err := filepath.Abs("lua_test.go")
	if err != nil {
		t.Fatal(err)
	}
	res := e.call(t, e.launch(t, "loading"), "confined", outside)
	r := res[0].([]any)
	check := func(i int, got any, want ...string) {
		t.Helper()
		s, _ := got.(string)
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("case %d: %#v, want it to hold %q", i, r[i-1], w)
			}
		}
	}
	for i := 1; i <= 3; i++ {
		if c := r[i-1].([]any); c[0] != nil {
			t.Errorf("case %d: loaded: %#v", i, c)
		}
	}
	check(1, r[0].([]any)[1], "cannot open ../lua_test.go: outside the script path (")
	check(2, r[1].([]any)[1], "cannot open "+outside+": outside the script path")
	check(3, r[2].([]any)[1], "cannot open nosuch.lua: not found in the script path")
	check(4, r[3].([]any)[1], "outside the script path")
	c5 := r[4].([]any)
	check(5, c5[2], fmt.Sprintf("testdata/loading.lua:%d: cannot open nosuch.lua", c5[0]))
	check(6, r[5].([]any)[1], "bad", "syntax error")
	if r[6] != "function" {
		t.Errorf("case 7: loadfile below the script's directory: %#v", r[6])
	}
}

// A symbolic link on the script path cannot lead loadfile out of it.
func TestLoadFileSymlinkConfined(t *testing.T) {
	dir := t.TempDir()
	app, other := filepath.Join(dir, "app"), filepath.Join(dir, "other")
	for _, d := range []string{app, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(other, "secret.lua"), "return 'secret'")
	write(filepath.Join(app, "inside.lua"), "return 'inside'")
	write(filepath.Join(app, "probe.lua"), `
local S = {}
function S.load(name)
	local f, err = loadfile(name)
	return f and f() or err
end
return S`)
	if err := os.Symlink(filepath.Join(other, "secret.lua"), filepath.Join(app, "link.lua")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	sys := actor.NewSystem(actor.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sys.Close(ctx)
	})
	rt := lua.New(sys, lua.Config{Path: []string{filepath.Join(app, "?.lua")}})
	p, err := rt.Launch(t.Context(), "probe")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"inside.lua":                     "inside",
		"link.lua":                       "cannot open link.lua: outside the script path",
		"../other/secret.lua":            "cannot open ../other/secret.lua: outside the script path",
		filepath.Join(app, "inside.lua"): "inside",
	} {
		res, err := sys.Call(t.Context(), p, "load", name)
		if err != nil || !strings.Contains(res[0].(string), want) {
			t.Errorf("loadfile(%q): %v, %v; want %q", name, res, err, want)
		}
	}
}
