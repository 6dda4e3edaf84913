package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tern-dev/tern/internal/restart"
	"github.com/tern-dev/tern/internal/supervise"
	"github.com/tern-dev/tern/root"
)

// superviseRun is `tern run --supervise`: this process stays a small
// supervisor (internal/supervise) that runs `tern run` without
// --supervise and --pid-file as its worker, holds the worker's listeners,
// restarts it after a crash, and does the graceful restart on the restart
// signal. The PID file holds the supervisor's PID. sigs already receives
// SIGINT and SIGTERM.
func superviseRun(o runOpts, stderr io.Writer, sigs chan os.Signal) int {
	// Whatever this process inherited by accident stays here.
	if _, err := restart.Inherit(); err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	if o.pidFile != "" {
		if err := writePIDFile(o.pidFile, os.Getpid()); err != nil {
			fmt.Fprintln(stderr, "tern: --pid-file:", err)
			return root.ExitBoot
		}
		defer func() {
			if pid, err := readPIDFile(o.pidFile); err == nil && pid == os.Getpid() {
				os.Remove(o.pidFile)
			}
		}()
	}
	if sigs == nil {
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	}
	signal.Notify(sigs, o.restartSignal)
	defer signal.Stop(sigs)
	dir, _ := os.Getwd()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	args := workerArgs(o)
	log.Info("supervise: starting the worker", "pid", os.Getpid(), "args", strings.Join(args, " "))
	return supervise.Run(supervise.Options{
		Worker:        restart.Options{Binary: o.binary, Args: args, Dir: dir, Timeout: o.restartTimeout, Stderr: stderr},
		RestartSignal: o.restartSignal,
		Log:           log,
	}, sigs)
}

// workerArgs is the worker's command line: `tern run` with the same
// options, but neither --supervise nor --pid-file (the PID file is the
// supervisor's) nor --binary (the supervisor starts every worker).
func workerArgs(o runOpts) []string {
	args := []string{"run"}
	if o.watch {
		args = append(args, "--watch")
	}
	return append(args, "--restart-timeout", o.restartTimeout.String(),
		"--restart-signal", strings.TrimPrefix(sigLabel(o.restartSignal), "SIG"), o.path)
}
