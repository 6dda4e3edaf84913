package root

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tern-dev/tern/internal/suggest"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
	"github.com/tern-dev/tern/names"
	glua "github.com/yuin/gopher-lua"
)

// Config is what `tern run` needs: where the bootstrap script is, where
// scripts are looked for, and how to log. A directory run reads it from
// its config.lua, which returns a table with the same fields in snake
// case.
type Config struct {
	// Bootstrap is the first service's script; "" for none. New makes a
	// file name relative to the working directory (one ending in ".lua"
	// or holding a slash, naming an existing file) absolute; anything
	// else is a script name looked up along Path, or a Go service
	// (RegisterGo). The directory of an absolute Bootstrap is the app
	// directory: declared services are looked up there first, then along
	// Path.
	Bootstrap string
	// Path is the script and module search path (lua.Config.Path). New
	// makes relative entries absolute, relative to the working directory;
	// an empty Path is lua.DefaultPath, made absolute the same way.
	Path []string

	LogLevel        string        // debug, info, warn or error
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // how long each service, and the whole shutdown, may take
	MaxMessage      int           // the largest packed message, in bytes; 0 is DefaultMaxMessage
	Workers         int           // workers that run services; 0 is GOMAXPROCS
	MaxTasks        int           // tasks a Lua service may have under way; 0 is lua.DefaultMaxTasks
	Admin           AdminConfig   // the admin HTTP API, off when Listen is ""
	Console         ConsoleConfig // the debug console, off when Listen is ""
	// Monitor: how long a handler may run before a warning names it
	// (WarnAfter; 0 is actor.DefaultWarnAfter, 5 s) and before a Lua
	// handler is interrupted (KillAfter; 0 is off). config.lua's
	// monitor = { warn_ms = 5000, kill_ms = 200 }.
	Monitor actor.Monitor
	// Memory is every Lua service's memory limit, by its estimate:
	// config.lua's memory = { soft = bytes, hard = bytes } (lua.MemoryLimit).
	Memory lua.MemoryLimit
	// MemoryLimit is the process's: Go's soft memory limit
	// (debug.SetMemoryLimit), and a warning in the log past 90% of it.
	// config.lua's memory_limit, in bytes; 0 is none.
	MemoryLimit int64
	// Services are declared by name: each starts on the first lookup of
	// its name (call, send, query, uniqueservice), not at boot.
	Services map[string]names.Decl
	// Cluster joins this node to a cluster of nodes (config.lua's
	// cluster table; see actor.ClusterConfig); nil runs it alone.
	Cluster *actor.ClusterConfig

	// For embedding (config.lua cannot set these):
	LogOutput io.Writer // where logs go; nil is stderr
	Signals   bool      // SIGINT and SIGTERM shut down (tern run sets it)
	// ClusterJoinWait, when positive, lets a cluster node whose listen
	// address is taken at boot start without the cluster and join as soon
	// as the address is free, within this long (then it shuts down with
	// ExitBoot). A process started by a graceful restart needs it: its
	// parent holds the address until it leaves the cluster, at the end of
	// its shutdown, which waits for this process to be ready. tern run
	// sets it in such a process.
	ClusterJoinWait time.Duration
	// SignalC, if set, is a channel the caller has already passed to
	// signal.Notify for SIGINT and SIGTERM; the runtime reads the signals
	// from it (it implies Signals). tern run does this before anything
	// else, so that a signal while the config loads is not lost.
	SignalC chan os.Signal
}

// Defaults used when config.lua leaves a field out.
const (
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultShutdownTimeout = 10 * time.Second
	DefaultMaxMessage      = 64 << 20
)

// Limits of config.lua's numbers.
const (
	MaxShutdownTimeout = 24 * time.Hour // shutdown_timeout, at most a day
	MaxMaxMessage      = 1 << 40        // max_message, at most 1 TiB
	MaxWorkers         = 1024           // workers, at most
	MaxMaxTasks        = 1 << 30        // max_tasks, at most
)

// configKeys are config.lua's keys.
var configKeys = []string{"path", "log_level", "log_format", "shutdown_timeout", "max_message", "max_tasks", "workers", "services", "admin", "console", "monitor", "memory", "memory_limit", "cluster"}

// Load reads the configuration for `tern run path`: path is a bootstrap
// script, or a directory holding main.lua and an optional config.lua.
// The app directory is that directory, or the script's. Bootstrap and
// Path come out absolute (relative path entries are relative to the app
// directory), so no script is ever looked up in the working directory.
func Load(path string) (Config, error) {
	cfg := Config{LogLevel: DefaultLogLevel, LogFormat: DefaultLogFormat, ShutdownTimeout: DefaultShutdownTimeout, MaxMessage: DefaultMaxMessage}
	fi, err := os.Stat(path)
	if err != nil {
		return cfg, fmt.Errorf("run %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return cfg, fmt.Errorf("run %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	cfg.Bootstrap = abs
	if fi.IsDir() {
		dir = abs
		cfg.Bootstrap = filepath.Join(abs, "main.lua")
		if _, err := os.Stat(cfg.Bootstrap); err != nil {
			return cfg, fmt.Errorf("run %s: a directory needs a main.lua: %w", path, err)
		}
		conf := filepath.Join(abs, "config.lua")
		if _, err := os.Stat(conf); err == nil {
			if err := cfg.readLua(conf); err != nil {
				return cfg, err
			}
		}
	}
	// Relative search path entries are relative to the run directory.
	for i, p := range cfg.Path {
		if !filepath.IsAbs(p) {
			cfg.Path[i] = filepath.Join(dir, p)
		}
	}
	cfg.Path = append(cfg.Path, filepath.Join(dir, "?.lua"), filepath.Join(dir, "?", "init.lua"))
	cfg.adminTokenFromEnv()
	return cfg, nil
}

// absolute makes Bootstrap, when it names a file relative to the working
// directory, and every Path entry absolute (an empty Path is
// lua.DefaultPath), so that the lookups never depend on the working
// directory after New. It does not change the caller's Path slice.
func (cfg *Config) absolute() error {
	if b := cfg.Bootstrap; b != "" && !filepath.IsAbs(b) && (strings.HasSuffix(b, ".lua") || strings.ContainsAny(b, "/"+string(filepath.Separator))) {
		if fi, err := os.Stat(b); err == nil && !fi.IsDir() {
			abs, err := filepath.Abs(b)
			if err != nil {
				return fmt.Errorf("bootstrap %s: %w", b, err)
			}
			cfg.Bootstrap = abs
		}
	}
	path := cfg.Path
	if len(path) == 0 {
		path = lua.DefaultPath
	}
	cfg.Path = make([]string, len(path))
	for i, p := range path {
		if !filepath.IsAbs(p) {
			abs, err := filepath.Abs(p)
			if err != nil {
				return fmt.Errorf("path entry %q: %w", p, err)
			}
			p = abs
		}
		cfg.Path[i] = p
	}
	return nil
}

// appDir is the app directory: the directory of an absolute Bootstrap, or
// "" (declared services are then looked up along Path only).
func (cfg *Config) appDir() string {
	if filepath.IsAbs(cfg.Bootstrap) {
		return filepath.Dir(cfg.Bootstrap)
	}
	return ""
}

// readLua runs config.lua in a bare VM and reads the table it returns.
func (cfg *Config) readLua(file string) error {
	L := glua.NewState(glua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, open := range []glua.LGFunction{glua.OpenBase, glua.OpenString, glua.OpenTable, glua.OpenMath} {
		L.Push(L.NewFunction(open))
		L.Call(0, 0)
	}
	if err := L.DoFile(file); err != nil {
		return fmt.Errorf("config %s: %w", file, err)
	}
	t, ok := L.Get(-1).(*glua.LTable)
	if !ok {
		return fmt.Errorf("config %s: must return a table, not %s", file, L.Get(-1).Type())
	}
	bad := func(field, want string, v glua.LValue) error {
		return fmt.Errorf("config %s: %s must be %s, not %s", file, field, want, describeValue(v))
	}
	var err error
	t.ForEach(func(k, v glua.LValue) {
		if err != nil {
			return
		}
		key, ok := k.(glua.LString)
		if !ok {
			err = fmt.Errorf("config %s: keys must be names (%s), not the %s %s", file, strings.Join(configKeys, ", "), k.Type(), k.String())
			return
		}
		switch string(key) {
		case "path":
			switch v := v.(type) {
			case glua.LString:
				cfg.Path = strings.Split(string(v), ";")
			case *glua.LTable:
				err = readList(v, func(i int, p glua.LValue) error {
					ps, ok := p.(glua.LString)
					if !ok {
						return bad(fmt.Sprintf("path[%d]", i), "a string", p)
					}
					cfg.Path = append(cfg.Path, string(ps))
					return nil
				}, func(k glua.LValue) error {
					return fmt.Errorf("config %s: path must be a string or a list of strings; it has the key %s", file, describeValue(k))
				})
			default:
				err = bad("path", "a string or a list of strings", v)
			}
		case "log_level":
			ls, ok := v.(glua.LString)
			if !ok {
				err = bad("log_level", `a string ("debug", "info", "warn" or "error")`, v)
				return
			}
			cfg.LogLevel = string(ls)
		case "log_format":
			ls, ok := v.(glua.LString)
			if !ok {
				err = bad("log_format", `a string ("text" or "json")`, v)
				return
			}
			cfg.LogFormat = string(ls)
		case "services":
			err = cfg.readServices(file, v)
		case "shutdown_timeout":
			n, ok := v.(glua.LNumber)
			ms := float64(n)
			if !ok || math.IsNaN(ms) || ms <= 0 || ms > float64(MaxShutdownTimeout/time.Millisecond) {
				err = bad("shutdown_timeout", fmt.Sprintf("a positive number of milliseconds, at most %d (%v)", MaxShutdownTimeout/time.Millisecond, MaxShutdownTimeout), v)
				return
			}
			cfg.ShutdownTimeout = time.Duration(ms * float64(time.Millisecond))
		case "max_message":
			n, ok := v.(glua.LNumber)
			b := float64(n)
			if !ok || math.IsNaN(b) || b < 1 || b > MaxMaxMessage || b != math.Trunc(b) {
				err = bad("max_message", fmt.Sprintf("a whole positive number of bytes, at most %d", int64(MaxMaxMessage)), v)
				return
			}
			cfg.MaxMessage = int(b)
		case "max_tasks":
			n, ok := v.(glua.LNumber)
			m := float64(n)
			if !ok || math.IsNaN(m) || m < 1 || m > MaxMaxTasks || m != math.Trunc(m) {
				err = bad("max_tasks", fmt.Sprintf("a whole number of tasks from 1 to %d", int64(MaxMaxTasks)), v)
				return
			}
			cfg.MaxTasks = int(m)
		case "admin":
			err = cfg.readAdmin(file, v)
		case "console":
			err = cfg.readConsole(file, v)
		case "monitor":
			err = cfg.readMonitor(file, v)
		case "memory":
			err = cfg.readMemory(file, v)
		case "cluster":
			err = cfg.readCluster(file, v)
		case "memory_limit":
			n, ok := v.(glua.LNumber)
			b := float64(n)
			if !ok || math.IsNaN(b) || b < 1<<20 || b > MaxMaxMessage || b != math.Trunc(b) {
				err = bad("memory_limit", fmt.Sprintf("a whole number of bytes from %d (1 MiB) to %d", 1<<20, int64(MaxMaxMessage)), v)
				return
			}
			cfg.MemoryLimit = int64(b)
		case "workers":
			n, ok := v.(glua.LNumber)
			w := float64(n)
			if !ok || math.IsNaN(w) || w < 1 || w > MaxWorkers || w != math.Trunc(w) {
				err = bad("workers", fmt.Sprintf("a whole number from 1 to %d", MaxWorkers), v)
				return
			}
			cfg.Workers = int(w)
		default:
			err = fmt.Errorf("config %s: unknown key %q%s", file, string(key), suggest.Key(string(key), configKeys))
		}
	})
	return err
}

// monitorKeys are the keys of monitor.
var monitorKeys = []string{"warn_ms", "kill_ms"}

// MaxMonitorMs is the most warn_ms and kill_ms may be: a day.
const MaxMonitorMs = 86_400_000

// readMonitor reads monitor = { warn_ms = 5000, kill_ms = 200 }.
func (cfg *Config) readMonitor(file string, v glua.LValue) (err error) {
	cfg.Monitor, err = parseMonitor(file, "monitor", v)
	return err
}

// parseMonitor reads the monitor table at key: whole positive numbers of
// milliseconds, at most a day; either may be left out (kill_ms = nil is
// no budget, or the runtime's for a service).
func parseMonitor(file, key string, v glua.LValue) (actor.Monitor, error) {
	var m actor.Monitor
	t, err := subTable(file, key, v, monitorKeys)
	if err != nil {
		return m, err
	}
	for _, k := range monitorKeys {
		v := t.RawGetString(k)
		if v == glua.LNil {
			continue
		}
		n, ok := v.(glua.LNumber)
		ms := float64(n)
		if !ok || math.IsNaN(ms) || ms < 1 || ms > MaxMonitorMs || ms != math.Trunc(ms) {
			return m, fmt.Errorf("config %s: %s.%s must be a whole positive number of milliseconds, at most %d (a day), not %s", file, key, k, MaxMonitorMs, describeValue(v))
		}
		d := time.Duration(ms) * time.Millisecond
		if k == "warn_ms" {
			m.WarnAfter = d
		} else {
			m.KillAfter = d
		}
	}
	return m, nil
}

// memoryKeys are the keys of memory.
var memoryKeys = []string{"soft", "hard"}

// readMemory reads memory = { soft = bytes, hard = bytes }.
func (cfg *Config) readMemory(file string, v glua.LValue) (err error) {
	cfg.Memory, err = parseMemory(file, "memory", v)
	return err
}

// parseMemory reads the memory table at key: whole positive numbers of
// bytes, soft below hard; either may be left out.
func parseMemory(file, key string, v glua.LValue) (lua.MemoryLimit, error) {
	var m lua.MemoryLimit
	t, err := subTable(file, key, v, memoryKeys)
	if err != nil {
		return m, err
	}
	for _, k := range memoryKeys {
		v := t.RawGetString(k)
		if v == glua.LNil {
			continue
		}
		n, ok := v.(glua.LNumber)
		b := float64(n)
		if !ok || math.IsNaN(b) || b < 1 || b > MaxMaxMessage || b != math.Trunc(b) {
			return m, fmt.Errorf("config %s: %s.%s must be a whole positive number of bytes, at most %d, not %s", file, key, k, int64(MaxMaxMessage), describeValue(v))
		}
		if k == "soft" {
			m.Soft = int64(b)
		} else {
			m.Hard = int64(b)
		}
	}
	if m.Soft > 0 && m.Hard > 0 && m.Soft >= m.Hard {
		return m, fmt.Errorf("config %s: %s.soft (%d) must be below %s.hard (%d)", file, key, m.Soft, key, m.Hard)
	}
	return m, nil
}

// describeValue is a value as an error shows it: its type, and a short
// form of strings and numbers.
func describeValue(v glua.LValue) string {
	switch v := v.(type) {
	case glua.LString:
		s := string(v)
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return fmt.Sprintf("string %q", s)
	case glua.LNumber:
		return "number " + v.String()
	case glua.LBool:
		return "boolean " + v.String()
	}
	return v.Type().String()
}

// readList calls item for t[1], t[2], ... t[#t], and other for any key
// outside that sequence.
func readList(t *glua.LTable, item func(i int, v glua.LValue) error, other func(k glua.LValue) error) error {
	n := t.Len()
	for i := 1; i <= n; i++ {
		if err := item(i, t.RawGetInt(i)); err != nil {
			return err
		}
	}
	var err error
	t.ForEach(func(k, _ glua.LValue) {
		if err != nil {
			return
		}
		if f, ok := k.(glua.LNumber); ok && float64(f) == math.Trunc(float64(f)) && f >= 1 && int(f) <= n {
			return
		}
		err = other(k)
	})
	return err
}

// serviceKeys are the keys of one entry of services.
var serviceKeys = []string{"script", "args", "monitor", "memory"}

// readServices reads services = { name = { script = "x.lua", args = {...} } }.
func (cfg *Config) readServices(file string, v glua.LValue) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return fmt.Errorf("config %s: services must be a table of name = { script = ..., args = {...} }, not %s", file, describeValue(v))
	}
	cfg.Services = map[string]names.Decl{}
	var err error
	t.ForEach(func(k, v glua.LValue) {
		if err != nil {
			return
		}
		ks, isName := k.(glua.LString)
		name := string(ks)
		d, ok := v.(*glua.LTable)
		if !isName || !names.LocalName(name) {
			err = fmt.Errorf("config %s: services: the key %s is not a service name", file, describeValue(k))
			return
		}
		if !ok {
			err = fmt.Errorf("config %s: services.%s must be a table { script = ..., args = {...} }, not %s", file, name, describeValue(v))
			return
		}
		d.ForEach(func(dk, _ glua.LValue) {
			if err != nil {
				return
			}
			if s, ok := dk.(glua.LString); !ok || !slices.Contains(serviceKeys, string(s)) {
				err = fmt.Errorf("config %s: services.%s: unknown key %s%s", file, name, describeValue(dk), suggest.Key(dk.String(), serviceKeys))
			}
		})
		if err != nil {
			return
		}
		script, ok := d.RawGetString("script").(glua.LString)
		if !ok {
			err = fmt.Errorf("config %s: services.%s.script must be a string, not %s", file, name, describeValue(d.RawGetString("script")))
			return
		}
		decl := names.Decl{Script: string(script)}
		switch args := d.RawGetString("args").(type) {
		case *glua.LTable:
			path := "services." + name + ".args"
			err = readList(args, func(i int, a glua.LValue) error {
				g, err := goValue(a, fmt.Sprintf("%s[%d]", path, i), map[*glua.LTable]bool{args: true})
				decl.Args = append(decl.Args, g)
				return err
			}, func(k glua.LValue) error {
				return fmt.Errorf("%s must be a list; it has the key %s", path, describeValue(k))
			})
			if err != nil {
				err = fmt.Errorf("config %s: %w", file, err)
				return
			}
		case *glua.LNilType:
		default:
			err = fmt.Errorf("config %s: services.%s.args must be a list, not %s", file, name, describeValue(args))
			return
		}
		if v := d.RawGetString("monitor"); v != glua.LNil {
			if decl.Limits == nil {
				decl.Limits = &actor.Limits{}
			}
			if decl.Limits.Monitor, err = parseMonitor(file, "services."+name+".monitor", v); err != nil {
				return
			}
		}
		if v := d.RawGetString("memory"); v != glua.LNil {
			if decl.Limits == nil {
				decl.Limits = &actor.Limits{}
			}
			if decl.Limits.Memory, err = parseMemory(file, "services."+name+".memory", v); err != nil {
				return
			}
		}
		cfg.Services[name] = decl
	})
	return err
}

// goValue turns a config value into a Go value: strings, numbers, bools,
// and tables as lists ([]any) or maps with string keys (map[string]any).
// Anything else (a function, a cycle, a table mixing list and map keys)
// is an error naming its path.
func goValue(v glua.LValue, path string, seen map[*glua.LTable]bool) (any, error) {
	switch v := v.(type) {
	case glua.LString:
		return string(v), nil
	case glua.LNumber:
		if float64(v) == math.Trunc(float64(v)) && math.Abs(float64(v)) < 1<<53 {
			return int64(v), nil
		}
		return float64(v), nil
	case glua.LBool:
		return bool(v), nil
	case *glua.LNilType:
		return nil, nil
	case *glua.LTable:
		if seen[v] {
			return nil, fmt.Errorf("%s: a table that contains itself (a cycle)", path)
		}
		seen[v] = true
		defer delete(seen, v)
		if n := v.Len(); n > 0 {
			out := make([]any, 0, n)
			err := readList(v, func(i int, e glua.LValue) error {
				g, err := goValue(e, fmt.Sprintf("%s[%d]", path, i), seen)
				out = append(out, g)
				return err
			}, func(k glua.LValue) error {
				return fmt.Errorf("%s: a table mixing a list with the key %s", path, describeValue(k))
			})
			return out, err
		}
		out := map[string]any{}
		var err error
		v.ForEach(func(k, e glua.LValue) {
			if err != nil {
				return
			}
			ks, ok := k.(glua.LString)
			if !ok {
				err = fmt.Errorf("%s: keys must be strings, not %s", path, describeValue(k))
				return
			}
			out[string(ks)], err = goValue(e, path+"."+string(ks), seen)
		})
		return out, err
	}
	return nil, fmt.Errorf("%s: a %s cannot be a service argument (only strings, numbers, booleans, nil and tables of them)", path, v.Type())
}
