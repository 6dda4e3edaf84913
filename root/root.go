package root

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/services/logger"
)

// Exit codes of `tern run` (and Runtime.Wait). tern.shutdown(code) exits
// with its code.
const (
	ExitOK       = 0 // clean shutdown
	ExitBoot     = 1 // the bootstrap (or a core service) failed to start, or the config is wrong
	ExitDeadline = 2 // some service did not stop within the shutdown deadline
	ExitForced   = 3 // a second signal cut the shutdown short
)

// rootService is the root actor. Boot, in order: logger, name service,
// bootstrap. Then it waits for a stopRequest and runs the shutdown
// protocol (exit.go).
type rootService struct {
	rt     *Runtime
	logger actor.Addr
	boot   uint32 // session of the bootstrap's start
	sigs   chan os.Signal
	stop   shutdown
}

func (s *rootService) Init(c *actor.Context) error {
	r := s.rt
	log := c.Logger()
	// 1. The logger: from here on, records are written on its goroutine.
	la, err := c.Spawn(logger.Service{}, actor.SpawnOptions{Name: "logger", Script: "go:logger"})
	if err != nil {
		return s.bootFailed(c, fmt.Errorf("logger: %w", err))
	}
	s.logger = la
	r.handler.Attach(r.sys, la)
	// 2. The name service, which starts declared services through the Lua
	// runtime (which also knows the Go services registered by name).
	start := func(script string, args []byte, readyTo actor.Addr, session uint32) (actor.Addr, error) {
		return r.lua.Start(script, args, "", actor.SpawnOptions{ReadyTo: readyTo, ReadySession: session})
	}
	na, err := c.Spawn(names.New(r.table, start, r.cfg.Services), actor.SpawnOptions{Name: "names", Script: "go:names"})
	if err != nil {
		return s.bootFailed(c, fmt.Errorf("names: %w", err))
	}
	r.names = na
	r.lua.SetNames(na, r.table.Lookup)
	if r.cfg.Signals {
		s.watchSignals(c)
	}
	// 3. The bootstrap service.
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
			if m.Kind == actor.Fail {
				s.bootFailed(c, m.Err)
			} else {
				s.rt.boot <- nil
			}
		}
	case actor.Control:
		if req, ok := m.Ctl.(stopRequest); ok {
			if req.signal && s.stop.running {
				c.Logger().Error("second signal: exiting now")
				s.finish(c, ExitForced)
				return
			}
			s.begin(c, req.code, req.reason)
		}
	case actor.Timer:
		s.timer(c, m.Session)
	}
}

func (s *rootService) Stopped(*actor.Context) {
	if s.sigs != nil {
		signal.Stop(s.sigs)
		close(s.sigs)
	}
}

// watchSignals turns SIGINT and SIGTERM into stopRequests to the root.
func (s *rootService) watchSignals(c *actor.Context) {
	s.sigs = make(chan os.Signal, 2)
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	sys, self := c.System(), c.Self()
	go func(sigs chan os.Signal) {
		for sig := range sigs {
			m := actor.NewMessage()
			m.Kind, m.Ctl = actor.Control, stopRequest{code: ExitOK, reason: "signal " + sig.String(), signal: true}
			_ = sys.Post(self, m)
		}
	}(s.sigs)
}

// newHandler builds the process log handler: slog text or JSON at a level.
func newHandler(w io.Writer, level, format string) (slog.Handler, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log_level %q: want debug, info, warn or error", level)
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
