package root

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/names"
)

func TestLoad(t *testing.T) {
	cfg, err := Load("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join("testdata/good", "lib/?.lua"), "/abs/?.lua",
		filepath.Join("testdata/good", "?.lua"), filepath.Join("testdata/good", "?", "init.lua"),
	}
	if !reflect.DeepEqual(cfg.Path, want) {
		t.Errorf("path: %q", cfg.Path)
	}
	if cfg.LogLevel != "debug" || cfg.LogFormat != "json" || cfg.ShutdownTimeout != 250*time.Millisecond {
		t.Errorf("config: %+v", cfg)
	}
	if cfg.Bootstrap != filepath.Join("testdata/good", "main.lua") {
		t.Errorf("bootstrap: %s", cfg.Bootstrap)
	}
	// a script path runs with the defaults
	cfg, err = Load("testdata/good/main.lua")
	if err != nil || cfg.ShutdownTimeout != DefaultShutdownTimeout || cfg.Bootstrap != "testdata/good/main.lua" {
		t.Errorf("script: %+v %v", cfg, err)
	}
}

func TestLoadServices(t *testing.T) {
	cfg, err := Load("testdata/declared")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]names.Decl{
		"db":    {Script: "db.lua", Args: []any{"main", int64(3), map[string]any{"pool": int64(4)}}},
		"cache": {Script: "cache"},
	}
	if !reflect.DeepEqual(cfg.Services, want) {
		t.Fatalf("services: %#v", cfg.Services)
	}
}

func TestLoadErrors(t *testing.T) {
	for dir, want := range map[string]string{
		"testdata/notable":    "must return a table, not number",
		"testdata/badtimeout": "shutdown_timeout must be a positive number of milliseconds, at most 86400000 (24h0m0s), not string \"soon\"",
		"testdata/nomain":     "a directory needs a main.lua",
		"testdata/absent":     "no such file",
	} {
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: %v, want %q", dir, err, want)
		}
	}
}

func TestLogger(t *testing.T) {
	if _, err := newHandler(nil, "loud", "text"); err == nil || !strings.Contains(err.Error(), `log_level "loud"`) {
		t.Errorf("bad level: %v", err)
	}
	if _, err := newHandler(nil, "info", "xml"); err == nil || !strings.Contains(err.Error(), `log_format "xml"`) {
		t.Errorf("bad format: %v", err)
	}
}
