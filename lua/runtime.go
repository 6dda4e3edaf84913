package lua

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/pack"
)

// Config is what the Lua side of the runtime needs to know.
type Config struct {
	// Path lists where scripts and modules are looked for, as Lua's
	// package.path does: "?" stands for the name, with dots turned into
	// slashes. A script's own directory is always searched first.
	Path []string
	// Shutdown is called by tern.shutdown(code) to stop the process.
	// Nil makes tern.shutdown raise an error.
	Shutdown func(code int)
	// GoService, if set, makes the Go service registered under name, for
	// newservice and the name service; ok is false for unknown names.
	GoService func(name string, args []byte) (svc actor.Service, ok bool, err error)
	// MaxMessage caps the packed size of one message's values, in bytes
	// (a call's or send's arguments, a reply's results, a new service's
	// arguments); 0 means DefaultMaxMessage. Past it, the send raises
	// "message too large" naming where the cap was hit.
	MaxMessage int
	// MaxTasks caps the tasks a service has under way (running or
	// suspended in a blocking call); 0 means DefaultMaxTasks. At the cap,
	// a new request fails at once with ErrOverloaded (a send is dropped,
	// with a warning).
	MaxTasks int
	// Memory is every Lua service's memory limit (memlimit.go); zero:
	// none.
	Memory MemoryLimit
}

// DefaultMaxMessage is the cap on a message's packed size when
// Config.MaxMessage is 0: 64 MiB.
const DefaultMaxMessage = pack.MaxSize

// DefaultPath is used when Config.Path is empty.
var DefaultPath = []string{"./?.lua", "./?/init.lua"}

// Runtime starts Lua services on an actor system and shares what they
// can share: the compiled chunks of every script.
type Runtime struct {
	sys       *actor.System
	path      []string
	shutdown  func(code int)
	goService func(string, []byte) (actor.Service, bool, error)
	protos    protoCache
	// maxMessage is Config.MaxMessage, or DefaultMaxMessage.
	maxMessage int
	// maxTasks is Config.MaxTasks, or DefaultMaxTasks.
	maxTasks int
	memory   MemoryLimit // Config.Memory

	names  actor.Addr                      // the name service, if any
	lookup func(string) (actor.Addr, bool) // its table, read directly
}

// SetNames connects the runtime to a name service: names in call and
// send are looked up with lookup, and what it does not know goes to the
// name service at addr. Call it before starting Lua services.
func (r *Runtime) SetNames(addr actor.Addr, lookup func(string) (actor.Addr, bool)) {
	r.names, r.lookup = addr, lookup
}

// Start starts a service named script: a Go service registered under
// that name, or the Lua script found beside dir or along the path. args
// are packed values.
func (r *Runtime) Start(script string, args []byte, dir string, o actor.SpawnOptions) (actor.Addr, error) {
	if r.goService != nil {
		svc, ok, err := r.goService(script, args)
		if err != nil {
			return actor.None, err
		}
		if ok {
			o.Name, o.Script = script, "go:"+script
			return r.sys.Spawn(svc, o)
		}
	}
	path, fi, err := r.findScript(script, dir)
	if err != nil {
		return actor.None, err
	}
	o.Name, o.Script = scriptName(path), displayName(path)
	svc := r.service(path, args)
	svc.found = fi
	return r.sys.Spawn(svc, o)
}

// New returns a Lua runtime on sys.
func New(sys *actor.System, cfg Config) *Runtime {
	path := cfg.Path
	if len(path) == 0 {
		path = DefaultPath
	}
	maxMessage := cfg.MaxMessage
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessage
	}
	maxTasks := cfg.MaxTasks
	if maxTasks <= 0 {
		maxTasks = DefaultMaxTasks
	}
	return &Runtime{sys: sys, path: path, shutdown: cfg.Shutdown, goService: cfg.GoService, maxMessage: maxMessage, maxTasks: maxTasks, memory: cfg.Memory}
}

// service makes a Service for the script at path (absolute), with packed
// arguments.
func (r *Runtime) service(path string, args []byte) *Service {
	return &Service{rt: r, script: path, dir: filepath.Dir(path), args: args}
}

// Launch starts the script as a service with Go values as arguments and
// waits until its init has run.
func (r *Runtime) Launch(ctx context.Context, script string, args ...any) (actor.Addr, error) {
	data, err := pack.AppendValuesLimit(nil, r.maxMessage, args...)
	if err != nil {
		return actor.None, fmt.Errorf("lua: launch %s: %w", script, err)
	}
	session, wait := r.sys.Await()
	a, err := r.Start(script, data, "", actor.SpawnOptions{ReadyTo: actor.None, ReadySession: session})
	if err != nil {
		r.sys.Forget(session)
		return actor.None, fmt.Errorf("lua: launch %s: %w", script, err)
	}
	return a, wait(ctx, a)
}

// ErrNotFound: no file matches a script or module name.
var ErrNotFound = errors.New("not found")

// findScript resolves a script name. "x" and "x.lua" name the same
// script, as do "sub/x" and "sub/x.lua": it is looked up beside the
// caller (dir, the calling script's directory), then along the search
// path, whose entries are relative to the app directory (root.Load makes
// them absolute). A bare name's dots stand for slashes, as in require; a
// name ending in ".lua" or holding a slash is a file name and keeps its
// dots. An absolute path is taken as it is.
//
// There is no fallback to the working directory, for a script's
// newservice or a start from Go (the bootstrap, Launch, a declared
// service) alike: a relative name is found beside dir or along the path
// only. root passes absolute names, the app directory as dir and an
// absolute path (it makes them absolute at Load and New); only a relative
// path entry, such as DefaultPath's when lua is used without root, is
// relative to the working directory.
//
// It returns the file's stat too, which spares the chunk cache its own.
func (r *Runtime) findScript(name, dir string) (string, os.FileInfo, error) {
	if filepath.IsAbs(name) {
		if fi, ok := isFile(name); ok {
			return filepath.Clean(name), fi, nil
		}
		return "", nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	file := strings.HasSuffix(name, ".lua") || strings.ContainsAny(name, "/"+string(os.PathSeparator))
	rel := strings.TrimSuffix(name, ".lua")
	if !file {
		rel = strings.ReplaceAll(name, ".", "/")
	}
	path, fi, tried := r.search(rel, dir)
	if path != "" {
		return path, fi, nil
	}
	return "", nil, fmt.Errorf("%w: %q (tried %s)", ErrNotFound, name, strings.Join(tried, ", "))
}

func isFile(path string) (os.FileInfo, bool) {
	fi, err := os.Stat(path)
	return fi, err == nil && !fi.IsDir()
}

// search looks for rel (a name with slashes, without ".lua") beside dir,
// then along the search path. It returns the absolute path of the first
// file found, or every candidate tried.
func (r *Runtime) search(rel, dir string) (string, os.FileInfo, []string) {
	var tried []string
	patterns := r.path
	if dir != "" {
		patterns = append([]string{filepath.Join(dir, "?.lua"), filepath.Join(dir, "?", "init.lua")}, patterns...)
	}
	for _, p := range patterns {
		c := strings.ReplaceAll(p, "?", rel)
		tried = append(tried, c)
		if fi, ok := isFile(c); ok {
			if abs, err := filepath.Abs(c); err == nil {
				return abs, fi, nil
			}
		}
	}
	return "", nil, tried
}

// findModule resolves a module name along dir and the search path.
func (r *Runtime) findModule(name, dir string) (string, error) {
	path, _, tried := r.search(strings.ReplaceAll(name, ".", "/"), dir)
	if path == "" {
		return "", fmt.Errorf("%w: %q (tried %s)", ErrNotFound, name, strings.Join(tried, ", "))
	}
	return path, nil
}
