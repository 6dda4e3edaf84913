package tern_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern"
	"go.uber.org/goleak"
)

type opaque struct{ X int }

func TestEmbedding(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rt, err := tern.New(tern.Config{
		Bootstrap: "testdata/mirror.lua",
		Path:      []string{"testdata/?.lua"},
		LogOutput: io.Discard,
		Services:  map[string]tern.Decl{"gosvc": {Script: "gosvc", Args: []any{"declared"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = rt.RegisterGo("gosvc", func(args []any) (tern.Service, error) {
		return tern.Handlers{
			"double": func(c *tern.Context, a []any) ([]any, error) { return []any{a[0].(int64) * 2}, nil },
			"args":   func(c *tern.Context, a []any) ([]any, error) { return args, nil },
			"fail":   func(c *tern.Context, a []any) ([]any, error) { return nil, errors.New("go says no") },
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.RegisterGo("late", nil); err == nil {
		t.Fatal("RegisterGo after Start accepted")
	}

	// Go values into Lua and back.
	in := []any{nil, true, int64(42), 2.5, "bin\x00ary", []any{int64(1), "two"}, map[string]any{"k": "v", "n": int64(1)}}
	res, err := rt.Call(ctx, "mirror", "echo", in...)
	if err != nil || !reflect.DeepEqual(res, in) {
		t.Fatalf("round trip:\n got %#v %v\nwant %#v", res, err, in)
	}
	res, _ = rt.Call(ctx, "mirror", "types", nil, true, 1, "s", []any{1}, map[string]any{})
	if !reflect.DeepEqual(res[0], []any{"nil", "boolean", "number", "string", "table", "table"}) {
		t.Fatalf("types in Lua: %#v", res[0])
	}
	if _, err := rt.Call(ctx, "mirror", "echo", opaque{1}); err == nil || !strings.Contains(err.Error(), "unsupported Go type tern_test.opaque at args[1]") {
		t.Fatalf("unsupported type: %v", err)
	}

	// Lua calls a Go service by name (declared, started on first use)...
	res, err = rt.Call(ctx, "mirror", "viago", "double", 21)
	if err != nil || res[0] != int64(42) {
		t.Fatalf("Lua -> Go: %v %v", res, err)
	}
	res, err = rt.Call(ctx, "mirror", "viago", "args")
	if err != nil || res[0] != "declared" {
		t.Fatalf("declared Go service args: %v %v", res, err)
	}
	_, err = rt.Call(ctx, "mirror", "viago", "fail")
	if err == nil || !strings.Contains(err.Error(), "go says no") {
		t.Fatalf("Go error into Lua and back: %v", err)
	}
	// ...or starts one with newservice.
	res, err = rt.Call(ctx, "mirror", "spawn_go", "x", int64(1))
	if err != nil || !reflect.DeepEqual(res, []any{"x", int64(1)}) {
		t.Fatalf("newservice of a Go service: %v %v", res, err)
	}
	// Go calls the Go service directly too, and Send works.
	if res, err := rt.Call(ctx, "gosvc", "double", 4); err != nil || res[0] != int64(8) {
		t.Fatalf("Go -> Go: %v %v", res, err)
	}
	if err := rt.Send("mirror", "echo", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Call(ctx, "nobody", "x"); err == nil || !strings.Contains(err.Error(), `no such service: "nobody"`) {
		t.Fatalf("unknown name: %v", err)
	}

	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code := rt.Wait(); code != tern.ExitOK {
		t.Fatalf("exit code %d", code)
	}
}

func TestBootFailure(t *testing.T) {
	rt, err := tern.New(tern.Config{Bootstrap: "testdata/nosuch.lua", LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "nosuch.lua") {
		t.Fatalf("start: %v", err)
	}
	if code := rt.Wait(); code != tern.ExitBoot {
		t.Fatalf("exit code %d", code)
	}
}

// Misuse fails at once with an error to test with errors.Is; before
// issue 6, each of these blocked.
func TestMisuseFailsAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rt, err := tern.New(tern.Config{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := rt.Send("x", "y"); !errors.Is(err, tern.ErrNotStarted) {
			t.Errorf("Send before Start: %v", err)
		}
		if _, err := rt.Call(ctx, "x", "y"); !errors.Is(err, tern.ErrNotStarted) {
			t.Errorf("Call before Start: %v", err)
		}
		if err := rt.Shutdown(ctx); !errors.Is(err, tern.ErrNotStarted) {
			t.Errorf("Shutdown before Start: %v", err)
		}
		if err := rt.Start(ctx); err != nil {
			t.Errorf("Start: %v", err)
			return
		}
		if _, err := rt.Call(ctx, tern.Addr(0), "y"); err == nil || !strings.Contains(err.Error(), `:00000000: call "y": no such service`) {
			t.Errorf("Call to address 0: %v", err)
		}
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := rt.Send("x", "y"); !errors.Is(err, tern.ErrStopped) {
			t.Errorf("Send after the end: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("blocked for 5s")
	}
	if code := rt.Wait(); code != tern.ExitOK {
		t.Fatalf("exit code %d", code)
	}
}

// Relative names given to New are relative to the working directory New
// ran in; after New, nothing is looked up in the working directory: the
// bootstrap still starts after a chdir, a declared "x.lua" is found in
// the app directory (the bootstrap's), and a script that only the new
// working directory holds is not found.
func TestEmbeddingRelativeNames(t *testing.T) {
	base := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	who := func(label string) string {
		return `local S = {}; function S.who() return "` + label + `" end; return S`
	}
	write("app/main.lua", `local tern = require "tern"; tern.register("main")`)
	write("app/lazy.lua", who("app lazy"))
	write("lib/deep.lua", who("lib deep"))
	write("elsewhere/lazy.lua", who("decoy lazy"))
	write("elsewhere/onlycwd.lua", who("decoy onlycwd"))
	t.Chdir(base)
	rt, err := tern.New(tern.Config{
		Bootstrap: "app/main.lua",
		Path:      []string{"lib/?.lua"},
		LogOutput: io.Discard,
		Services: map[string]tern.Decl{
			"lazy":    {Script: "lazy.lua"},
			"deep":    {Script: "deep"},
			"onlycwd": {Script: "onlycwd.lua"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(base, "elsewhere"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		rt.Shutdown(ctx)
		rt.Wait()
	}()
	for name, want := range map[string]string{"lazy": "app lazy", "deep": "lib deep"} {
		res, err := rt.Call(ctx, name, "who")
		if err != nil || len(res) != 1 || res[0] != want {
			t.Errorf("declared %s: %v %v, want %q", name, res, err, want)
		}
	}
	if res, err := rt.Call(ctx, "onlycwd", "who"); err == nil || !strings.Contains(err.Error(), `not found: "onlycwd.lua"`) {
		t.Errorf("declared onlycwd.lua, only in the working directory: %v %v, want not found", res, err)
	}
}
