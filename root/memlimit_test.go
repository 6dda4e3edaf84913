package root

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
)

// startApp writes an app's files (name -> source) into a fresh directory,
// loads it as tern run would, and starts it, logging into the returned
// buffer (shown if the test fails).
func startApp(t *testing.T, files map[string]string) (*Runtime, *testutil.Buffer) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := &testutil.Buffer{}
	cfg.LogOutput = log
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", log)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("start: %v\n%s", err, log)
	}
	return rt, log
}

// loadConf loads an app whose config.lua is conf.
func loadConf(t *testing.T, conf string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte("return {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.lua"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(dir)
}

func TestLoadMemory(t *testing.T) {
	cfg, err := loadConf(t, "return { memory = { soft = 1e6, hard = 8e6 }, memory_limit = 2^30 }")
	if err != nil || cfg.Memory != (lua.MemoryLimit{Soft: 1e6, Hard: 8e6}) || cfg.MemoryLimit != 1<<30 {
		t.Fatalf("memory: %+v %d %v", cfg.Memory, cfg.MemoryLimit, err)
	}
	if cfg, err = loadConf(t, "return { memory = { hard = 8e6 } }"); err != nil || cfg.Memory != (lua.MemoryLimit{Hard: 8e6}) {
		t.Fatalf("hard only: %+v %v", cfg.Memory, err)
	}
	for conf, want := range map[string]string{
		"return { memory = { soft = 8e6, hard = 1e6 } }": "memory.soft (8000000) must be below memory.hard (1000000)",
		"return { memory = { hard = -1 } }":              "memory.hard must be a whole positive number of bytes, at most 1099511627776, not number -1",
		`return { memory = { soft = "1MB" } }`:           `memory.soft must be a whole positive number of bytes, at most 1099511627776, not string "1MB"`,
		"return { memory = { hrad = 1 } }":               `memory: unknown key string "hrad" (did you mean "hard"?)`,
		"return { memory = 5 }":                          "memory must be a table",
		"return { memory_limit = 1000 }":                 "memory_limit must be a whole number of bytes from 1048576 (1 MiB) to 1099511627776, not number 1000",
	} {
		if _, err := loadConf(t, conf); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\n want %q", conf, err, want)
		}
	}
	if _, err := New(Config{Memory: lua.MemoryLimit{Soft: 5, Hard: 5}}); err == nil || !strings.Contains(err.Error(), "Soft < Hard") {
		t.Errorf("New with soft = hard: %v", err)
	}
}

// The watch warns once the process holds more than 90% of memory_limit
// (a test process holds far more than 1 MiB), and stops when told.
func TestWatchMemoryWarns(t *testing.T) {
	log := &testutil.Buffer{}
	stop := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		watchMemory(1<<20, slog.New(slog.NewTextHandler(log, nil)), stop)
		close(ended)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "process memory near memory_limit") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning: %s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-ended
}

// A declared service's own monitor and memory override the runtime's:
// here only "hog" has a hard limit and only "spinner" a budget; "free"
// runs the same script as "hog" unlimited.
func TestDeclaredServiceLimits(t *testing.T) {
	rt, _ := startApp(t, map[string]string{
		"main.lua": `return {}`,
		"hog.lua": `local held = {}
return { grow = function(n) for i = 1, n do held[#held + 1] = string.rep("x", 1000) .. i end return #held end }`,
		"spinner.lua": `return { spin = function() while true do end end, ping = function() return "pong" end }`,
		"config.lua": `return { services = {
	hog = { script = "hog", memory = { hard = 4e6 } },
	free = { script = "hog" },
	spinner = { script = "spinner", monitor = { kill_ms = 100 } },
} }`,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	defer func() {
		_ = rt.Shutdown(ctx)
		rt.Wait()
	}()

	if _, err := rt.Call(ctx, "hog", "grow", 100_000); err == nil || !strings.Contains(err.Error(), "over its hard limit of 4000000 B") {
		t.Errorf("hog past its limit: %v", err)
	}
	if res, err := rt.Call(ctx, "free", "grow", 10_000); err != nil || res[0] != int64(10_000) {
		t.Errorf("free: %v %v", res, err)
	}
	if _, err := rt.Call(ctx, "spinner", "spin"); err == nil || !strings.Contains(err.Error(), "handler ran past kill_ms (100 ms)") {
		t.Errorf("spinner: %v", err)
	}
	if res, err := rt.Call(ctx, "spinner", "ping"); err != nil || res[0] != "pong" {
		t.Errorf("spinner after its budget: %v %v", res, err)
	}

	for conf, want := range map[string]string{
		`return { services = { db = { script = "db", memory = { soft = "x" } } } }`:  `services.db.memory.soft must be a whole positive number of bytes`,
		`return { services = { db = { script = "db", monitor = { kil_ms = 5 } } } }`: `services.db.monitor: unknown key string "kil_ms" (did you mean "kill_ms"?)`,
		`return { services = { db = { script = "db", memroy = {} } } }`:              `services.db: unknown key string "memroy" (did you mean "memory"?)`,
	} {
		if _, err := loadConf(t, conf); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\n want %q", conf, err, want)
		}
	}
}
