package root

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tern-dev/tern/names"
	glua "github.com/yuin/gopher-lua"
)

// Config is what `tern run` needs: where the bootstrap script is, where
// scripts are looked for, and how to log. A directory run reads it from
// its config.lua, which returns a table with the same fields in snake
// case.
type Config struct {
	Bootstrap       string        // the first service's script; "" for none
	Path            []string      // script and module search path (lua.Config.Path)
	LogLevel        string        // debug, info, warn or error
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // how long each service, and the whole shutdown, may take
	// Services are declared by name: each starts on the first lookup of
	// its name (call, send, query, uniqueservice), not at boot.
	Services map[string]names.Decl

	// For embedding (config.lua cannot set these):
	LogOutput io.Writer // where logs go; nil is stderr
	Signals   bool      // SIGINT and SIGTERM shut down (tern run sets it)
}

// Defaults used when config.lua leaves a field out.
const (
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultShutdownTimeout = 10 * time.Second
)

// Load reads the configuration for `tern run path`: path is a bootstrap
// script, or a directory holding main.lua and an optional config.lua.
func Load(path string) (Config, error) {
	cfg := Config{LogLevel: DefaultLogLevel, LogFormat: DefaultLogFormat, ShutdownTimeout: DefaultShutdownTimeout}
	fi, err := os.Stat(path)
	if err != nil {
		return cfg, fmt.Errorf("run %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	cfg.Bootstrap = path
	if fi.IsDir() {
		dir = path
		cfg.Bootstrap = filepath.Join(path, "main.lua")
		if _, err := os.Stat(cfg.Bootstrap); err != nil {
			return cfg, fmt.Errorf("run %s: a directory needs a main.lua: %w", path, err)
		}
		conf := filepath.Join(path, "config.lua")
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
	return cfg, nil
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
		return fmt.Errorf("config %s: %s must be %s, not %s", file, field, want, v.Type())
	}
	var err error
	t.ForEach(func(k, v glua.LValue) {
		if err != nil {
			return
		}
		switch k.String() {
		case "path":
			switch v := v.(type) {
			case glua.LString:
				cfg.Path = strings.Split(string(v), ";")
			case *glua.LTable:
				v.ForEach(func(_, p glua.LValue) { cfg.Path = append(cfg.Path, p.String()) })
			default:
				err = bad("path", "a string or a list of strings", v)
			}
		case "log_level":
			cfg.LogLevel = v.String()
		case "log_format":
			cfg.LogFormat = v.String()
		case "services":
			err = cfg.readServices(file, v)
		case "shutdown_timeout":
			n, ok := v.(glua.LNumber)
			if !ok || n <= 0 {
				err = bad("shutdown_timeout", "a positive number of milliseconds", v)
				return
			}
			cfg.ShutdownTimeout = time.Duration(float64(n) * float64(time.Millisecond))
		}
	})
	return err
}

// readServices reads services = { name = { script = "x.lua", args = {...} } }.
func (cfg *Config) readServices(file string, v glua.LValue) error {
	t, ok := v.(*glua.LTable)
	if !ok {
		return fmt.Errorf("config %s: services must be a table of name = { script = ..., args = {...} }, not %s", file, v.Type())
	}
	cfg.Services = map[string]names.Decl{}
	var err error
	t.ForEach(func(k, v glua.LValue) {
		if err != nil {
			return
		}
		name := k.String()
		d, ok := v.(*glua.LTable)
		if !ok || !names.ValidName(name) {
			err = fmt.Errorf("config %s: services.%s must be a table { script = ..., args = {...} }", file, name)
			return
		}
		script, ok := d.RawGetString("script").(glua.LString)
		if !ok {
			err = fmt.Errorf("config %s: services.%s.script must be a string", file, name)
			return
		}
		decl := names.Decl{Script: string(script)}
		switch args := d.RawGetString("args").(type) {
		case *glua.LTable:
			for i := 1; i <= args.Len(); i++ {
				decl.Args = append(decl.Args, goValue(args.RawGetInt(i)))
			}
		case *glua.LNilType:
		default:
			err = fmt.Errorf("config %s: services.%s.args must be a list", file, name)
			return
		}
		cfg.Services[name] = decl
	})
	return err
}

// goValue turns a config value into a Go value (strings, numbers, bools,
// nested tables as maps and lists).
func goValue(v glua.LValue) any {
	switch v := v.(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		if float64(v) == float64(int64(v)) {
			return int64(v)
		}
		return float64(v)
	case glua.LBool:
		return bool(v)
	case *glua.LTable:
		if n := v.Len(); n > 0 {
			out := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				out = append(out, goValue(v.RawGetInt(i)))
			}
			return out
		}
		out := map[string]any{}
		v.ForEach(func(k, e glua.LValue) { out[k.String()] = goValue(e) })
		return out
	}
	return nil
}
