package root

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/services/logger"
)

// Exit codes of `tern run` (and Runtime.Wait). tern.shutdown(code) exits
// with its code. `tern run` also exits with ExitUsage for a bad command
// line, and a Go panic that nothing recovers exits with 2 (the Go
// runtime's code), which the log tells apart from ExitDeadline.
const (
	ExitOK       = 0  // clean shutdown
	ExitBoot     = 1  // the bootstrap (or a core service) failed to start, or the config is wrong
	ExitDeadline = 2  // some service did not stop within the shutdown deadline
	ExitForced   = 3  // a second signal cut the shutdown short
	ExitUsage    = 64 // tern run: bad command line (EX_USAGE)
)

// The core services' handles, the same on every node, so that a node can
// reach another's name service (names.Handle) knowing only its number.
// The boot fails if one gets another handle: something was spawned on the
// System before Start.
const (
	rootHandle   = 1
	loggerHandle = 2
)

// rootService is the root actor. Boot, in order: logger, name service,
// the cluster (if configured), bootstrap. Then it waits for a stopRequest and runs the shutdown
// protocol (exit.go).
type rootService struct {
	rt       *Runtime
	logger   actor.Addr
	boot     uint32 // session of the bootstrap's start
	stop     shutdown
	finished bool // finish ran: the root is stopping
}

func (s *rootService) Init(c *actor.Context) error {
	r := s.rt
	log := c.Logger()
	// 0. The root's address, before anything can ask for a shutdown; and
	// a shutdown asked for before the root ran (an early signal).
	r.mu.Lock()
	r.root = c.Self()
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	// 1. The logger: from here on, records are written on its goroutine.
	// It writes to stderr, blocking I/O, so it is Dedicated: a goroutine of
	// its own, and a slow stderr never holds a worker of the pool.
	la, err := c.Spawn(logger.Service{Handler: r.handler}, actor.SpawnOptions{Name: "logger", Script: "go:logger", Dedicated: true})
	if err != nil {
		return s.bootFailed(c, fmt.Errorf("logger: %w", err))
	}
	s.logger = la
	r.handler.Attach(r.sys, la)
	if err := coreHandle("root", c.Self(), rootHandle); err != nil {
		return s.bootFailed(c, err)
	}
	if err := coreHandle("logger", la, loggerHandle); err != nil {
		return s.bootFailed(c, err)
	}
	// 2. The name service, which starts declared services through the Lua
	// runtime (which also knows the Go services registered by name). Their
	// scripts are looked up in the app directory, then along the path.
	appDir := r.cfg.appDir()
	start := func(script string, args []byte, limits *actor.Limits, readyTo actor.Addr, session uint32) (actor.Addr, error) {
		return r.lua.Start(script, args, appDir, actor.SpawnOptions{ReadyTo: readyTo, ReadySession: session, Limits: limits})
	}
	ns := names.New(r.table, start, r.cfg.Services)
	ns.SetMaxMessage(r.cfg.MaxMessage)
	if r.cfg.Cluster != nil {
		ns.SetCallTimeout(r.cfg.Cluster.CallTimeout)
	}
	na, err := c.Spawn(ns, actor.SpawnOptions{Name: "names", Script: "go:names"})
	if err != nil {
		return s.bootFailed(c, fmt.Errorf("names: %w", err))
	}
	if err := coreHandle("names", na, names.Handle); err != nil {
		return s.bootFailed(c, err)
	}
	r.lua.SetNames(na, r.table.Direct)
	r.names.Store(uint64(na))
	if pending != nil {
		// A shutdown during boot is no boot failure: the bootstrap is not
		// started, and the exit code is the shutdown's.
		log.Info("shutdown during boot", "reason", pending.reason)
		r.boot <- fmt.Errorf("root: %w: shutdown during boot (%s)", ErrStopped, pending.reason)
		if pending.forced {
			s.finish(c, ExitForced)
			return nil
		}
		s.begin(c, pending.code, pending.reason)
		return nil
	}
	// 3. The cluster: this node joins, with its name service up to answer
	// the others (cluster.go).
	if err := s.joinCluster(c); err != nil {
		return s.bootFailed(c, err)
	}
	// 4. The bootstrap service.
	if r.cfg.Bootstrap == "" {
		r.boot <- nil
		return nil
	}
	log.Info("boot", "bootstrap", r.cfg.Bootstrap)
	s.boot = c.NewSession()
	if _, err := r.lua.Start(r.cfg.Bootstrap, nil, "", actor.SpawnOptions{ReadyTo: c.Self(), ReadySession: s.boot}); err != nil {
		return s.bootFailed(c, fmt.Errorf("bootstrap %s: %w", r.cfg.Bootstrap, err))
	}
	return nil
}

// bootFailed reports a boot error to Start and shuts down with ExitBoot.
// The root itself stays up to run the shutdown.
func (s *rootService) bootFailed(c *actor.Context, err error) error {
	c.Logger().Error("boot failed", "err", err)
	s.rt.boot <- err
	s.begin(c, ExitBoot, "boot failed")
	return nil
}

func (s *rootService) Receive(c *actor.Context, m *actor.Message) {
	switch m.Kind {
	case actor.Reply, actor.Fail:
		if m.Session == s.boot && s.boot != 0 {
			s.boot = 0
			switch {
			case m.Kind == actor.Reply:
				s.rt.boot <- nil
			case s.stop.running:
				// The shutdown stopped the bootstrap before its init ended:
				// no boot failure, and the exit code stays the shutdown's.
				c.Logger().Info("shutdown during boot", "bootstrap", s.rt.cfg.Bootstrap, "err", m.Err)
				s.rt.boot <- fmt.Errorf("root: %w: shutdown during boot: %w", ErrStopped, m.Err)
			default:
				s.bootFailed(c, m.Err)
			}
		}
	case actor.Control:
		switch req := m.Ctl.(type) {
		case stopRequest:
			if req.forced {
				s.finish(c, ExitForced)
				return
			}
			s.begin(c, req.code, req.reason)
		default:
			if m.Session != 0 {
				c.Fail(m.From, m.Session, &actor.Error{Name: c.Name(), Addr: c.Self(), What: fmt.Sprintf("control %T", m.Ctl), Err: actor.ErrNoCommand})
			}
		}
	case actor.Call:
		// The root serves no commands, but answers every call.
		c.Fail(m.From, m.Session, &actor.Error{Name: c.Name(), Addr: c.Self(), What: `call "` + m.Cmd + `"`, Err: actor.ErrNoCommand})
	case actor.Send:
		c.Logger().Warn("send to the root dropped: it serves no commands", "cmd", m.Cmd, "from", m.From.String())
	case actor.Timer:
		s.timer(c, m.Session)
	}
}

func (s *rootService) Stopped(*actor.Context) {}

// newHandler builds the process log handler: slog text or JSON at a level
// held in lv, which SetLogLevel changes at run time.
func newHandler(w io.Writer, level, format string, lv *slog.LevelVar) (slog.Handler, error) {
	if err := setLevel(lv, level); err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("log_format %q: want text or json", format)
}

// setLevel reads a level name into lv.
func setLevel(lv *slog.LevelVar, level string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("log_level %q: want debug, info, warn or error", level)
	}
	lv.Set(l)
	return nil
}
