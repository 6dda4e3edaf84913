package root

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/lua"
)

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
