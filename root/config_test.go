package root

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/suggest"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
)

func TestLoad(t *testing.T) {
	cfg, err := Load("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	good, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(good, "lib/?.lua"), "/abs/?.lua",
		filepath.Join(good, "?.lua"), filepath.Join(good, "?", "init.lua"),
	}
	if !reflect.DeepEqual(cfg.Path, want) {
		t.Errorf("path: %q", cfg.Path)
	}
	if cfg.LogLevel != "debug" || cfg.LogFormat != "json" || cfg.ShutdownTimeout != 250*time.Millisecond || cfg.MaxMessage != 1<<20 || cfg.Workers != 3 {
		t.Errorf("config: %+v", cfg)
	}
	if cfg.Bootstrap != filepath.Join(good, "main.lua") {
		t.Errorf("bootstrap: %s", cfg.Bootstrap)
	}
	// a script path runs with the defaults
	cfg, err = Load("testdata/good/main.lua")
	if err != nil || cfg.ShutdownTimeout != DefaultShutdownTimeout || cfg.MaxMessage != 64<<20 || cfg.Bootstrap != filepath.Join(good, "main.lua") {
		t.Errorf("script: %+v %v", cfg, err)
	}
	if want := []string{filepath.Join(good, "?.lua"), filepath.Join(good, "?", "init.lua")}; !reflect.DeepEqual(cfg.Path, want) {
		t.Errorf("script path: %q", cfg.Path)
	}
}

// New makes relative names absolute against the working directory it ran
// in: a Bootstrap naming a file there, and every Path entry (an empty
// Path is lua.DefaultPath). A Bootstrap that names no file there is a
// script or Go service name, and stays as it is.
func TestNewMakesPathsAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	path := []string{"testdata/app/?.lua", "/abs/?.lua"}
	for _, tc := range []struct {
		bootstrap, want string
		path, wantPath  []string
	}{
		{"testdata/app/main.lua", filepath.Join(wd, "testdata/app/main.lua"), path, []string{filepath.Join(wd, "testdata/app/?.lua"), "/abs/?.lua"}},
		{"main", "main", nil, []string{filepath.Join(wd, "?.lua"), filepath.Join(wd, "?", "init.lua")}},
		{"main.lua", "main.lua", nil, nil}, // no main.lua here: a name along the path
		{"testdata/app", "testdata/app", nil, nil},
		{"/abs/main.lua", "/abs/main.lua", nil, nil},
		{"", "", nil, nil},
	} {
		rt, err := New(Config{Bootstrap: tc.bootstrap, Path: tc.path, LogOutput: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		rt.System().Close(t.Context()) // never started: only its workers to stop
		if rt.cfg.Bootstrap != tc.want {
			t.Errorf("Bootstrap %q became %q, want %q", tc.bootstrap, rt.cfg.Bootstrap, tc.want)
		}
		if tc.wantPath != nil && !reflect.DeepEqual(rt.cfg.Path, tc.wantPath) {
			t.Errorf("Path %q became %q, want %q", tc.path, rt.cfg.Path, tc.wantPath)
		}
	}
	if path[0] != "testdata/app/?.lua" {
		t.Errorf("New changed the caller's Path: %q", path)
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
	if _, err := newHandler(nil, "loud", "text", new(slog.LevelVar)); err == nil || !strings.Contains(err.Error(), `log_level "loud"`) {
		t.Errorf("bad level: %v", err)
	}
	if _, err := newHandler(nil, "info", "xml", new(slog.LevelVar)); err == nil || !strings.Contains(err.Error(), `log_format "xml"`) {
		t.Errorf("bad format: %v", err)
	}
}

// Issue 6: unknown keys were ignored, wrong-typed path entries turned
// into strings, functions in args into nil, and a non-finite or huge
// shutdown_timeout into the default. Each is an error naming the key.
func TestLoadRejects(t *testing.T) {
	for dir, want := range map[string]string{
		"unknownkey":      `unknown key "log_levl" (did you mean "log_level"?)`,
		"farkey":          `unknown key "colour"; known keys: admin, cluster, console, log_format, log_level, max_message, max_tasks, memory, memory_limit, monitor, path, services, shutdown_timeout, workers`,
		"numkey":          `keys must be names`,
		"pathentry":       `path[2] must be a string, not number 3`,
		"pathkey":         `path must be a string or a list of strings; it has the key string "extra"`,
		"argfunc":         `services.db.args[2].handler: a function cannot be a service argument`,
		"argcycle":        `services.db.args[1].self: a table that contains itself`,
		"servicekey":      `services.db: unknown key string "scirpt" (did you mean "script"?)`,
		"nantimeout":      `shutdown_timeout must be a positive number of milliseconds, at most 86400000 (24h0m0s), not number NaN`,
		"hugetimeout":     `shutdown_timeout must be a positive number of milliseconds, at most 86400000 (24h0m0s), not number 1e+300`,
		"inftimeout":      `shutdown_timeout must be a positive number of milliseconds, at most 86400000 (24h0m0s), not number +Inf`,
		"zerotimeout":     `shutdown_timeout must be a positive number of milliseconds, at most 86400000 (24h0m0s), not number 0`,
		"levelnumber":     `log_level must be a string ("debug", "info", "warn" or "error"), not number 3`,
		"formatbool":      `log_format must be a string ("text" or "json"), not boolean true`,
		"workerszero":     `workers must be a whole number from 1 to 1024, not number 0`,
		"workersfraction": `workers must be a whole number from 1 to 1024, not number 2.5`,
		"maxfraction":     `max_message must be a whole positive number of bytes, at most 1099511627776, not number 1.5`,
		"maxnegative":     `max_message must be a whole positive number of bytes, at most 1099511627776, not number -1`,
		"maxstring":       `max_message must be a whole positive number of bytes, at most 1099511627776, not string "64MB"`,
		"maxhuge":         `max_message must be a whole positive number of bytes, at most 1099511627776, not number 1125899906842624`,
	} {
		path := filepath.Join("testdata/badconf", dir)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Join(path, "config.lua")) {
			t.Errorf("%s: %v\n want %q", dir, err, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	for key, want := range map[string]string{
		"log_levl":         `log_level`,
		"LOG_LEVEL":        `log_level`,
		"shutdowntimeout":  `shutdown_timeout`,
		"shutdown_timeotu": `shutdown_timeout`,
		"pth":              `path`,
		"max_msg":          `max_message`,
		"service":          `services`,
	} {
		if got := suggest.Key(key, configKeys); got != ` (did you mean "`+want+`"?)` {
			t.Errorf("%s: %s", key, got)
		}
	}
	if got := suggest.Key("zzzzzz", configKeys); !strings.HasPrefix(got, "; known keys: ") {
		t.Errorf("far key: %s", got)
	}
}

// max_tasks: a whole number of tasks from 1 to MaxMaxTasks; anything else
// is rejected naming the key. Left out, it is 0 (lua.DefaultMaxTasks).
func TestLoadMaxTasks(t *testing.T) {
	cfg, err := loadConf(t, "return { max_tasks = 100 }")
	if err != nil || cfg.MaxTasks != 100 {
		t.Fatalf("max_tasks = 100: %d %v", cfg.MaxTasks, err)
	}
	cfg, err = loadConf(t, "return {}")
	if err != nil || cfg.MaxTasks != 0 {
		t.Fatalf("no max_tasks: %d %v", cfg.MaxTasks, err)
	}
	const msg = "max_tasks must be a whole number of tasks from 1 to 1073741824, not "
	for v, want := range map[string]string{
		"0":      msg + "number 0",
		"-5":     msg + "number -5",
		"2.5":    msg + "number 2.5",
		"0/0":    msg + "number NaN",
		"1e300":  msg + "number 1e+300",
		`"100"`:  msg + `string "100"`,
		"true":   msg + "boolean true",
		"2^30+1": msg + "number 1073741825",
	} {
		_, err := loadConf(t, "return { max_tasks = "+v+" }")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("max_tasks = %s: %v\n want %q", v, err, want)
		}
	}
	if _, err := New(Config{MaxTasks: -1}); err == nil || !strings.Contains(err.Error(), "MaxTasks") {
		t.Errorf("negative MaxTasks: %v", err)
	}
}

// monitor = { warn_ms = ..., kill_ms = ... }: whole positive numbers of
// milliseconds, at most a day; either may be left out (kill_ms: no
// budget). Anything else, and any other key under monitor, is rejected
// naming the key.
func TestLoadMonitor(t *testing.T) {
	for conf, want := range map[string]actor.Monitor{
		"return { monitor = { warn_ms = 50, kill_ms = 200 } }":   {WarnAfter: 50 * time.Millisecond, KillAfter: 200 * time.Millisecond},
		"return { monitor = { kill_ms = 86400000 } }":            {KillAfter: 24 * time.Hour},
		"return { monitor = { warn_ms = 1000, kill_ms = nil } }": {WarnAfter: time.Second},
		"return { monitor = {} }":                                {},
		"return {}":                                              {},
	} {
		cfg, err := loadConf(t, conf)
		if err != nil || cfg.Monitor != want {
			t.Errorf("%s: %+v %v, want %+v", conf, cfg.Monitor, err, want)
		}
	}
	const msg = " must be a whole positive number of milliseconds, at most 86400000 (a day), not "
	for conf, want := range map[string]string{
		"warn_ms = 0":        "monitor.warn_ms" + msg + "number 0",
		"warn_ms = -5":       "monitor.warn_ms" + msg + "number -5",
		"warn_ms = 2.5":      "monitor.warn_ms" + msg + "number 2.5",
		"warn_ms = 0/0":      "monitor.warn_ms" + msg + "number NaN",
		`warn_ms = "5s"`:     "monitor.warn_ms" + msg + `string "5s"`,
		"kill_ms = 0":        "monitor.kill_ms" + msg + "number 0",
		"kill_ms = 1e300":    "monitor.kill_ms" + msg + "number 1e+300",
		"kill_ms = 86400001": "monitor.kill_ms" + msg + "number 86400001",
		"kill_ms = false":    "monitor.kill_ms" + msg + "boolean false",
		"kil_ms = 200":       `monitor: unknown key string "kil_ms" (did you mean "kill_ms"?)`,
		"warn_m = 200":       `monitor: unknown key string "warn_m" (did you mean "warn_ms"?)`,
		"[1] = 200":          `monitor: unknown key number 1`,
	} {
		_, err := loadConf(t, "return { monitor = { "+conf+" } }")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("monitor = { %s }: %v\n want %q", conf, err, want)
		}
	}
	if _, err := loadConf(t, "return { monitor = 5000 }"); err == nil || !strings.Contains(err.Error(), "monitor must be a table, not number 5000") {
		t.Errorf("monitor = 5000: %v", err)
	}
	if _, err := loadConf(t, "return { monitr = {} }"); err == nil || !strings.Contains(err.Error(), `unknown key "monitr" (did you mean "monitor"?)`) {
		t.Errorf("monitr: %v", err)
	}
}

// config.lua's monitor reaches the runtime: a handler in an endless loop
// is named in a warning past warn_ms, and stopped past kill_ms; the
// bootstrap's pcall(tern.call, ...) gets the budget error.
func TestMonitorFromConfig(t *testing.T) {
	rt, log := startApp(t, map[string]string{
		"config.lua": "return { monitor = { warn_ms = 50, kill_ms = 200 } }",
		"spin.lua":   "local S = {}\nfunction S.spin()\n\twhile true do\n\tend\nend\nreturn S\n",
		"main.lua": `local tern = require "tern"
local ok, err = pcall(tern.call, tern.newservice("spin"), "spin")
tern.log("spin:", ok, err)
tern.shutdown(ok and 1 or 7)
`,
	})
	if code := waitCode(t, rt, log); code != 7 {
		t.Fatalf("exit code %d, want 7 (the call failed)\n%s", code, log.String())
	}
	out := log.String()
	for _, want := range []string{
		`msg="a handler is running for a long time (maybe in an endless loop)" service=spin`,
		`cmd=spin running=`,
		`spin.lua:4: handler ran past kill_ms (200 ms)`,
		`msg="spin: false`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the log:\n%s", want, out)
		}
	}
}
