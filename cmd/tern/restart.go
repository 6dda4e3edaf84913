package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/internal/restart"
	"github.com/tern-dev/tern/internal/supervise"
	"github.com/tern-dev/tern/root"
)

// runOpts are the flags of `tern run`.
type runOpts struct {
	args           []string // the whole command line, for the new binary: "run", flags, PATH
	path           string
	watch          bool
	pidFile        string
	binary         string
	restartTimeout time.Duration
	restartSignal  syscall.Signal
	supervise      bool
}

// parseRun reads the arguments after "run".
func parseRun(args []string) (runOpts, error) {
	o := runOpts{args: append([]string{"run"}, args...)}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.watch, "watch", false, "")
	fs.BoolVar(&o.supervise, "supervise", false, "")
	fs.StringVar(&o.pidFile, "pid-file", "", "")
	fs.StringVar(&o.binary, "binary", "", "")
	fs.DurationVar(&o.restartTimeout, "restart-timeout", restart.DefaultTimeout, "")
	sig := fs.String("restart-signal", "HUP", "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 1 {
		return o, errors.New("run takes one PATH")
	}
	if o.restartTimeout <= 0 {
		return o, fmt.Errorf("--restart-timeout must be positive, not %v", o.restartTimeout)
	}
	s, err := parseSignal(*sig)
	if err != nil {
		return o, fmt.Errorf("--restart-signal: %w", err)
	}
	o.path, o.restartSignal = fs.Arg(0), s
	return o, nil
}

// parseSignal reads a signal that may ask for a restart: HUP, USR1, USR2.
func parseSignal(s string) (syscall.Signal, error) {
	switch strings.TrimPrefix(strings.ToUpper(s), "SIG") {
	case "HUP":
		return syscall.SIGHUP, nil
	case "USR1":
		return syscall.SIGUSR1, nil
	case "USR2":
		return syscall.SIGUSR2, nil
	}
	return 0, fmt.Errorf("%q is not HUP, USR1 or USR2", s)
}

// writePIDFile writes pid to file, atomically (a rename).
func writePIDFile(file string, pid int) error {
	tmp := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// readPIDFile reads the PID in file.
func readPIDFile(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read the PID file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s holds no PID: %q", file, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// restarting is `tern run`'s part of a graceful restart: the PID file,
// the restart signal, and the runtime's Restarter.
type restarting struct {
	opts     runOpts
	child    *restart.Child
	sup      *supervise.Worker // a supervised worker's link to its supervisor
	handed   atomic.Bool       // a new process took over
	stopOnce sync.Once
	stopOps  func() // closes the admin API and the console
}

// startRestarting reads what an upgrade passed this process, writes the
// PID file of a process started by hand, and starts catching the restart
// signal. It runs before the config loads.
func startRestarting(o runOpts) (*restarting, chan os.Signal, error) {
	child, err := restart.Inherit()
	if err != nil {
		return nil, nil, err
	}
	sup, err := supervise.Connect()
	if err != nil {
		return nil, nil, err
	}
	if sup != nil { // every listener goes to the supervisor too
		listeners.OnListen(func(l *listeners.Listener) {
			if err := sup.Listen(l); err != nil {
				fmt.Fprintln(os.Stderr, "tern:", err)
			}
		})
	}
	if o.pidFile != "" && !child.Upgraded() {
		if err := writePIDFile(o.pidFile, os.Getpid()); err != nil {
			return nil, nil, fmt.Errorf("--pid-file: %w", err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, o.restartSignal)
	return &restarting{opts: o, child: child, sup: sup}, sig, nil
}

// ready runs once the runtime and its admin API and console run: it
// installs the Restarter, writes our PID to the PID file (a process
// started by an upgrade), tells the parent, and turns restart signals
// into restarts.
func (rs *restarting) ready(rt *root.Runtime, stopOps func(), sig chan os.Signal) {
	log := rt.Logger()
	rs.stopOps = stopOps
	dir, _ := os.Getwd()
	if rs.sup != nil { // the supervisor restarts, and tells us when to drain
		rt.SetRestarter(func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return rs.sup.Restart(ctx) // why it was refused, as the supervisor says
		})
		rs.sup.OnDrain(func() {
			log.Info("restart: the supervisor's new worker is ready: shutting down")
			rs.drain(rt)
		})
		if err := rs.sup.Ready(listeners.Names()); err != nil {
			log.Error("supervise: report ready", "err", err)
		}
	} else {
		up := restart.New(restart.Options{Binary: rs.opts.binary, Args: rs.opts.args, Dir: dir, Timeout: rs.opts.restartTimeout})
		rt.SetRestarter(func(context.Context) error { return rs.begin(rt, up) })
	}
	if rs.child.Upgraded() && rs.opts.pidFile != "" {
		if err := writePIDFile(rs.opts.pidFile, os.Getpid()); err != nil {
			log.Error("restart: write the PID file", "file", rs.opts.pidFile, "err", err)
		}
	}
	upgraded := rs.child.Upgraded()
	unclaimed, err := rs.child.Ready()
	for _, a := range unclaimed {
		log.Warn("restart: an inherited listener nobody opened is closed", "addr", a)
	}
	if err != nil {
		log.Error("restart: report ready", "err", err)
	} else if upgraded && rs.sup == nil { // a supervisor says so itself
		log.Info("restart: ready; the old process shuts down", "pid", os.Getpid())
	}
	go func() {
		for {
			select {
			case s := <-sig:
				if err := rt.Restart(context.Background()); err != nil {
					log.Warn("restart refused", "signal", s.String(), "err", err)
				}
			case <-rt.Done():
				signal.Stop(sig)
				return
			}
		}
	}()
}

// begin starts an upgrade in the background.
func (rs *restarting) begin(rt *root.Runtime, up *restart.Upgrader) error {
	done, err := up.Begin()
	if err != nil {
		return root.ErrRestarting
	}
	log := rt.Logger()
	log.Info("restart: starting the new process", "args", strings.Join(rs.opts.args, " "))
	go func() {
		pid, err := up.Run(context.Background())
		if err != nil {
			done()
			var f *restart.Failure
			if errors.As(err, &f) {
				log.Error("restart failed: serving on", "err", err, "stderr", strings.Join(f.Stderr, "\n"))
			} else {
				log.Error("restart failed: serving on", "err", err)
			}
			return
		}
		// Still busy: no second upgrade while this process drains.
		log.Info("restart: the new process is ready: shutting down", "pid", pid)
		rs.drain(rt)
	}()
	return nil
}

// drain hands over to a new process that is ready: it stops the admin API
// and the console, and runs the shutdown protocol.
func (rs *restarting) drain(rt *root.Runtime) {
	rs.handed.Store(true)
	rs.closeOps()
	if err := rt.Shutdown(context.Background()); err != nil {
		rt.Logger().Error("restart: shutdown", "err", err)
	}
}

func (rs *restarting) closeOps() {
	rs.stopOnce.Do(func() {
		if rs.stopOps != nil {
			rs.stopOps()
		}
	})
}

// exit runs as `tern run` ends: the PID file goes, unless a new process
// took over (it holds the new PID then).
func (rs *restarting) exit() {
	rs.closeOps()
	if rs.opts.pidFile == "" || rs.handed.Load() {
		return
	}
	if pid, err := readPIDFile(rs.opts.pidFile); err == nil && pid == os.Getpid() {
		os.Remove(rs.opts.pidFile)
	}
}

// restartCmd is `tern restart --pid-file F [--signal HUP]`: it sends the
// restart signal to the process in F.
func restartCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pidFile := fs.String("pid-file", "", "")
	sigName := fs.String("signal", "HUP", "")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *pidFile == "" {
		if err == nil {
			err = errors.New("restart needs --pid-file F, and nothing else")
		}
		fmt.Fprintf(stderr, "tern restart: %v\n%s", err, usage)
		return root.ExitUsage
	}
	sig, err := parseSignal(*sigName)
	if err != nil {
		fmt.Fprintf(stderr, "tern restart: --signal: %v\n", err)
		return root.ExitUsage
	}
	pid, err := readPIDFile(*pidFile)
	if err != nil {
		fmt.Fprintln(stderr, "tern restart:", err)
		return 1
	}
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			fmt.Fprintf(stderr, "tern restart: process %d (from %s) is not running\n", pid, *pidFile)
		} else {
			fmt.Fprintf(stderr, "tern restart: signal process %d (from %s): %v\n", pid, *pidFile, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "tern restart: sent %s to process %d\n", sigLabel(sig), pid)
	return 0
}

func sigLabel(s syscall.Signal) string {
	switch s {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	}
	return "SIGUSR2"
}
