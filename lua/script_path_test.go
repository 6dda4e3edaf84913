package lua_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/root"
)

// writeFiles writes name -> content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// who returns a script that answers who() with its label.
func who(label string) string {
	return `local S = {}; function S.who() return "` + label + `" end; return S`
}

// scriptApps makes an app directory and a working directory beside it
// holding decoys with the same names, and moves into the working
// directory: what `tern run /abs/app` from elsewhere sees.
func scriptApps(t *testing.T) (app string) {
	t.Helper()
	base := t.TempDir()
	app, cwd := filepath.Join(base, "app"), filepath.Join(base, "elsewhere")
	writeFiles(t, app, map[string]string{
		"lazy.lua":      who("app lazy"),
		"sub/inner.lua": who("app sub/inner"),
		"lib/deep.lua":  who("lib deep"),
		"caller.lua": `local tern = require "tern"
local S = {}
function S.spawn(name)
	local ok, a = pcall(tern.newservice, name)
	if not ok then return "error: " .. tostring(a) end
	return tern.call(a, "who")
end
return S`,
	})
	writeFiles(t, cwd, map[string]string{
		"lazy.lua":      who("decoy lazy"),
		"deep.lua":      who("decoy deep"),
		"onlycwd.lua":   who("decoy onlycwd"),
		"sub/inner.lua": who("decoy sub/inner"),
	})
	t.Chdir(cwd)
	return app
}

// Scripts named with or without ".lua" are found beside the caller and
// along the path, never in the working directory.
func TestScriptPathFromAnotherDirectory(t *testing.T) {
	app := scriptApps(t)
	sys := actor.NewSystem(actor.Options{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sys.Close(ctx)
	})
	// Absolute entries, as root.Load makes them.
	rt := lua.New(sys, lua.Config{Path: []string{filepath.Join(app, "lib", "?.lua"), filepath.Join(app, "?.lua")}})
	call := func(a actor.Addr, cmd string, args ...any) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := sys.Call(ctx, a, cmd, args...)
		if err != nil {
			t.Fatalf("%s %v: %v", cmd, args, err)
		}
		s, _ := res[0].(string)
		return s
	}

	// Started from Go (as the name service starts a declared service).
	for _, name := range []string{"lazy", "lazy.lua", "deep", "deep.lua", "sub/inner", "sub/inner.lua", "sub.inner"} {
		a, err := rt.Launch(t.Context(), name)
		if err != nil {
			t.Errorf("Launch %q: %v", name, err)
			continue
		}
		got := call(a, "who")
		if !strings.HasPrefix(got, "app ") && !strings.HasPrefix(got, "lib ") {
			t.Errorf("Launch %q started %q", name, got)
		}
	}

	// Started by a script: beside it, then along the path.
	caller, err := rt.Launch(t.Context(), "caller.lua")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"lazy":          "app lazy",
		"lazy.lua":      "app lazy",
		"deep.lua":      "lib deep",
		"deep":          "lib deep",
		"sub/inner.lua": "app sub/inner",
		"sub/inner":     "app sub/inner",
		"sub.inner":     "app sub/inner",
		"onlycwd.lua":   `not found: "onlycwd.lua"`,
		"onlycwd":       `not found: "onlycwd"`,
	} {
		if got := call(caller, "spawn", name); !strings.Contains(got, want) {
			t.Errorf("newservice %q from a script: got %q, want %q", name, got, want)
		}
	}
}

// The case of the issue: `tern run /abs/app` from another directory, with
// a service declared as { script = "lazy.lua" } in config.lua.
func TestScriptPathDeclaredWithSuffix(t *testing.T) {
	app := scriptApps(t)
	writeFiles(t, app, map[string]string{
		"config.lua": `return { path = "lib/?.lua", services = { lazy = { script = "lazy.lua" }, deep = { script = "deep.lua" } } }`,
		"main.lua":   `local tern = require "tern"; tern.register("main")`,
	})
	cfg, err := root.Load(app)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogOutput = io.Discard
	rt, err := root.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
}
