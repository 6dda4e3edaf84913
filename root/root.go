// Package root owns the process: it boots the runtime on the bootstrap
// script, waits for a reason to stop (a signal, or tern.shutdown from
// Lua), stops every service within the deadline and says how it went in
// the exit code. Nothing else in tern exits the process.
package root

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
)

// Exit codes of `tern run`.
const (
	ExitOK       = 0 // clean shutdown
	ExitBoot     = 1 // the bootstrap failed, or the configuration is wrong
	ExitDeadline = 2 // some service did not stop within the deadline
)

// Run boots the runtime for cfg, logging to w, and blocks until it has
// stopped. It returns the process exit code.
func Run(cfg Config, w io.Writer) int {
	log, err := NewLogger(w, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(w, "tern:", err)
		return ExitBoot
	}
	stop := make(chan int, 1)
	sys := actor.NewSystem(actor.Options{Logger: log})
	rt := lua.New(sys, lua.Config{Path: cfg.Path, Shutdown: func(code int) {
		select {
		case stop <- code:
		default: // a shutdown is already under way
		}
	}})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	code := ExitOK
	log.Info("boot", "bootstrap", cfg.Bootstrap)
	if _, err := rt.Launch(context.Background(), cfg.Bootstrap); err != nil {
		log.Error("boot failed", "err", err)
		code = ExitBoot
	} else {
		select {
		case sig := <-sigs:
			log.Info("shutdown", "signal", sig.String())
		case code = <-stop:
			log.Info("shutdown", "code", code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			log.Error("second signal: exiting now")
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := sys.Close(ctx); err != nil {
		log.Error("shutdown deadline missed", "err", err, "timeout", cfg.ShutdownTimeout)
		return ExitDeadline
	}
	log.Info("stopped", "code", code)
	return code
}

// NewLogger builds the process logger: slog text or JSON at a level.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log_level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log_format %q: want text or json", format)
}
