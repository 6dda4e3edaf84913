// Command tern runs a tern application.
//
//	tern run [--watch] [--supervise] [--pid-file F] [--binary B] PATH
//	                          run a bootstrap script, or a directory with main.lua
//	tern restart --pid-file F a graceful restart of the tern in F
//	tern console [ADDR]       a client of the debug console
//	tern version              print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tern-dev/tern/root"
	"github.com/tern-dev/tern/services/admin"
	"github.com/tern-dev/tern/services/console"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func main() {
	// Catch SIGINT and SIGTERM before anything else: a signal while the
	// config loads or the runtime boots then gives a clean shutdown, not
	// the default death by signal (exit 130 or 143, no log line).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sigs))
}

const usage = `usage:
  tern run [--watch] [--supervise] [--pid-file F] [--binary B]
           [--restart-timeout D] [--restart-signal SIG] PATH
                   run PATH: a bootstrap .lua script, or a directory
                   holding main.lua and an optional config.lua;
                   --watch reloads the services of a script it edits;
                   --pid-file F holds the PID (the new one after a
                   graceful restart); SIGHUP (or --restart-signal HUP,
                   USR1, USR2) restarts gracefully into B (default: this
                   binary), which must be ready within D (default 30s);
                   --supervise keeps a supervisor process (the PID in F)
                   that holds the listeners and restarts a crashed worker
  tern restart --pid-file F [--signal SIG]
                   a graceful restart of the tern whose PID is in F
  tern console [ADDR]
                   a client of the debug console (default 127.0.0.1:8701)
  tern version     print the version

exit codes: 0 clean, N from tern.shutdown(N), 1 boot failure,
            2 shutdown deadline missed (or a Go panic), 3 forced by a
            second signal, 64 bad command line
`

// run runs the command line args; sigs, if not nil, already receives
// SIGINT and SIGTERM.
func run(args []string, stdout, stderr io.Writer, sigs chan os.Signal) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return root.ExitUsage
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "tern", Version)
		return 0
	case "run":
		o, err := parseRun(args[1:])
		if err != nil {
			fmt.Fprintf(stderr, "tern run: %v\n%s", err, usage)
			return root.ExitUsage
		}
		if o.supervise {
			return superviseRun(o, stderr, sigs)
		}
		return runPath(o, stderr, sigs)
	case "restart":
		return restartCmd(args[1:], stdout, stderr)
	case "console":
		if len(args) > 2 {
			fmt.Fprint(stderr, usage)
			return root.ExitUsage
		}
		addr := DefaultConsole
		if len(args) == 2 {
			addr = args[1]
		}
		return consoleClient(addr, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tern: unknown command %q\n%s", args[0], usage)
	return root.ExitUsage
}

func runPath(o runOpts, stderr io.Writer, sigs chan os.Signal) int {
	path, watching := o.path, o.watch
	rs, restartSig, err := startRestarting(o)
	if err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	defer rs.exit()
	cfg, err := root.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	if cfg.Admin.Listen != "" && cfg.Admin.Token == "" && !admin.Loopback(cfg.Admin.Listen) {
		fmt.Fprintf(stderr, "tern: admin.listen %q is not a loopback address: set admin.token or TERN_ADMIN_TOKEN\n", cfg.Admin.Listen)
		return root.ExitBoot
	}
	cfg.LogOutput, cfg.Signals, cfg.SignalC = stderr, true, sigs
	if rs.child.Upgraded() || rs.sup != nil {
		// The process this one replaces holds the cluster's listen
		// address until it leaves, at the end of its shutdown.
		cfg.ClusterJoinWait = max(cfg.ShutdownTimeout, root.DefaultShutdownTimeout) + time.Minute
	}
	rt, err := root.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	// Start returns when the bootstrap's init has run, or with its error,
	// or when the runtime has ended first; every outcome is logged, and
	// Wait has the exit code.
	if rt.Start(context.Background()) != nil {
		return rt.Wait()
	}
	stop, err := operate(rt, cfg, watching)
	if err != nil {
		stop()
		rt.Logger().Error("boot failed", "err", err)
		_ = rt.Shutdown(context.Background())
		rt.Wait()
		return root.ExitBoot
	}
	// Ready: a graceful restart may begin, and a parent waiting for us
	// hears so.
	rs.ready(rt, stop, restartSig)
	return rt.Wait()
}

// operate starts what operates the running server, as config.lua asks:
// the admin HTTP API, the debug console, and with --watch the script
// watcher. stop ends whatever started.
func operate(rt *root.Runtime, cfg root.Config, watching bool) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if cfg.Admin.Listen != "" {
		srv, err := admin.Start(rt, cfg.Admin)
		if err != nil {
			return stop, err
		}
		stops = append(stops, func() { _ = srv.Close() })
		rt.Logger().Info("admin API", "listen", srv.Addr())
	}
	if cfg.Console.Listen != "" {
		srv, err := console.Start(rt, cfg.Console)
		if err != nil {
			return stop, err
		}
		stops = append(stops, func() { _ = srv.Close() }) // it logs its address
	}
	if watching {
		w, err := watch(rt, watchDirs(cfg), rt.Logger())
		if err != nil {
			return stop, err
		}
		stops = append(stops, w)
	}
	return stop, nil
}
