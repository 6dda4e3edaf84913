package console

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tern-dev/tern/actor"
)

// cmdFunc runs one command: it writes its output lines to ss and returns
// nil for `<CMD OK>` or the one-line reason for `<CMD Error>`.
type cmdFunc func(ss *session, args []string) error

// commands is the console's command table, as skynet's COMMAND.
var commands map[string]cmdFunc

// usage is each command's one-line help.
var usage = map[string]string{
	"help":      "help: this list",
	"list":      "list: every service (address, name, script, state)",
	"info":      "info X: one service (X is a name or an address, :0000000a)",
	"mem":       "mem: the Go heap and goroutines, and each Lua service's memory estimate, taken now",
	"gc":        "gc: run the Go garbage collector, then mem",
	"stat":      "stat: per service: address, name, mailbox length and high-water mark, messages in and out, errors, busy seconds, tasks",
	"nodes":     "nodes: the cluster's nodes, this one first: name, number, address, up, messages sent to and received from it, dropped, calls failed",
	"reload":    "reload X: reload a Lua service in place",
	"reloadall": "reloadall SCRIPT: reload every running service of SCRIPT, one at a time",
	"stop":      "stop X: stop a service cleanly (on_shutdown runs, requests in flight finish)",
	"start":     "start X: start the service declared as X",
	"kill":      "kill X: stop a service at once",
	"call":      "call X CMD ARGS...: call CMD on X; ARGS are Lua literals (1, 2.5, \"s\", true, nil, {1, x = 2})",
	"trace":     "trace X CMD ARGS...: call, traced: each hop it causes is logged under the tag printed first",
	"ping":      "ping X: the round-trip time of a call to X",
	"inject":    "inject X FILE.lua: run a Lua file in X's VM (only with console.inject = true)",
	"log":       "log LEVEL: set the log level (debug, info, warn, error)",
	"shutdown":  "shutdown: shut the process down (exit code 0)",
	"restart":   "restart: a graceful restart of the binary: a new process takes over the listeners, then this one shuts down",
}

func init() {
	commands = map[string]cmdFunc{
		"help":      cmdHelp,
		"list":      cmdList,
		"info":      cmdInfo,
		"mem":       cmdMem,
		"gc":        cmdGC,
		"stat":      cmdStat,
		"nodes":     cmdNodes,
		"reload":    cmdReload,
		"reloadall": cmdReloadAll,
		"stop":      cmdStop,
		"start":     cmdStart,
		"kill":      cmdKill,
		"call":      cmdCall,
		"trace":     cmdTrace,
		"ping":      cmdPing,
		"inject":    cmdInject,
		"log":       cmdLog,
		"shutdown":  cmdShutdown,
		"restart":   cmdRestart,
	}
}

// nargs checks the argument count and reads the plain words.
func nargs(cmd string, args []string, n int) ([]string, error) {
	if len(args) != n {
		return nil, fmt.Errorf("bad arguments: want %q", usage[cmd][:strings.IndexByte(usage[cmd], ':')])
	}
	out := make([]string, n)
	for i, a := range args {
		w, err := word(a)
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

func cmdHelp(ss *session, args []string) error {
	if _, err := nargs("help", args, 0); err != nil {
		return err
	}
	names := make([]string, 0, len(usage))
	for n := range usage {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ss.line(usage[n])
	}
	return nil
}

func cmdList(ss *session, args []string) error {
	if _, err := nargs("list", args, 0); err != nil {
		return err
	}
	for _, sv := range ss.s.rt.Services() {
		ss.printf("%s\t%s\t%s\t%s", sv.Addr, orDash(sv.Name), sv.Script, sv.State)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdInfo(ss *session, args []string) error {
	a, err := nargs("info", args, 1)
	if err != nil {
		return err
	}
	sv, err := ss.s.rt.Service(a[0])
	if err != nil {
		return err
	}
	ss.printf("addr\t%s", sv.Addr)
	ss.printf("name\t%s", orDash(sv.Name))
	ss.printf("script\t%s", sv.Script)
	ss.printf("state\t%s", sv.State)
	ss.printf("started\t%s (%s ago)", sv.Started.Format(time.RFC3339), time.Since(sv.Started).Round(time.Millisecond))
	ss.printf("queued\t%d", sv.Queued)
	ss.printf("peak\t%d", sv.Peak)
	ss.printf("handled\t%d", sv.Handled)
	ss.printf("sent\t%d", sv.Sent)
	ss.printf("errors\t%d", sv.Errors)
	ss.printf("busy\t%.3fs", sv.Busy.Seconds())
	ss.printf("wall\t%.3fs", sv.Wall.Seconds())
	ss.printf("tasks\t%d", sv.Tasks)
	ss.printf("reloads\t%d", sv.Reloads)
	if sv.Memory > 0 {
		ss.printf("memory\t%s", bytes(uint64(sv.Memory)))
	}
	return nil
}

func cmdMem(ss *session, args []string) error {
	if _, err := nargs("mem", args, 0); err != nil {
		return err
	}
	mem(ss)
	ctx, cancel := ss.timeout()
	defer cancel()
	list, err := ss.s.rt.MeasureMemory(ctx)
	if err != nil {
		return err
	}
	ss.line("addr\tname\tscript\tmemory")
	for _, sv := range list {
		if sv.Memory > 0 {
			ss.printf("%s\t%s\t%s\t%s", sv.Addr, orDash(sv.Name), sv.Script, bytes(uint64(sv.Memory)))
		}
	}
	return nil
}

// memOrDash is a service's memory estimate, or "-" when it has none yet.
func memOrDash(n int64) string {
	if n <= 0 {
		return "-"
	}
	return bytes(uint64(n))
}

func mem(ss *session) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	ss.printf("heap_alloc\t%s", bytes(m.HeapAlloc))
	ss.printf("heap_inuse\t%s", bytes(m.HeapInuse))
	ss.printf("heap_objects\t%d", m.HeapObjects)
	ss.printf("sys\t%s", bytes(m.Sys))
	ss.printf("total_alloc\t%s", bytes(m.TotalAlloc))
	ss.printf("num_gc\t%d", m.NumGC)
	ss.printf("goroutines\t%d", runtime.NumGoroutine())
}

func bytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func cmdGC(ss *session, args []string) error {
	if _, err := nargs("gc", args, 0); err != nil {
		return err
	}
	runtime.GC()
	mem(ss)
	return nil
}

func cmdStat(ss *session, args []string) error {
	if _, err := nargs("stat", args, 0); err != nil {
		return err
	}
	ss.line("addr\tname\tqueued\tpeak\thandled\tsent\terrors\tbusy\ttasks\tmemory")
	for _, sv := range ss.s.rt.Services() {
		ss.printf("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%d\t%s", sv.Addr, orDash(sv.Name), sv.Queued, sv.Peak,
			sv.Handled, sv.Sent, sv.Errors, sv.Busy.Seconds(), sv.Tasks, memOrDash(sv.Memory))
	}
	return nil
}

func cmdNodes(ss *session, args []string) error {
	if _, err := nargs("nodes", args, 0); err != nil {
		return err
	}
	ns := ss.s.rt.Nodes()
	if ns == nil {
		return errors.New("not in a cluster")
	}
	ss.line("node	number	address	up	sent	received	dropped	failed")
	for _, n := range ns {
		name := n.Name
		if n.Self {
			name += " (self)"
		}
		ss.printf("%s	%d	%s	%v	%d	%d	%d	%d", name, n.Number, n.Address, n.Up, n.Sent, n.Received, n.Dropped, n.Failed)
	}
	return nil
}

func cmdReload(ss *session, args []string) error {
	a, err := nargs("reload", args, 1)
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	if err := ss.s.rt.Reload(ctx, a[0]); err != nil {
		return err
	}
	ss.printf("reloaded %s", a[0])
	return nil
}

func cmdReloadAll(ss *session, args []string) error {
	a, err := nargs("reloadall", args, 1)
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	n, failed, err := ss.s.rt.ReloadScript(ctx, a[0])
	ss.printf("reloaded %d", n)
	addrs := make([]actor.Addr, 0, len(failed))
	for ad := range failed {
		addrs = append(addrs, ad)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	for _, ad := range addrs {
		ss.printf("failed %s: %v", ad, failed[ad])
	}
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d failed", len(failed))
	}
	return nil
}

func cmdStop(ss *session, args []string) error {
	a, err := nargs("stop", args, 1)
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	if err := ss.s.rt.Stop(ctx, a[0]); err != nil {
		return err
	}
	ss.printf("stopped %s", a[0])
	return nil
}

func cmdStart(ss *session, args []string) error {
	a, err := nargs("start", args, 1)
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	addr, err := ss.s.rt.StartDeclared(ctx, a[0])
	if err != nil {
		return err
	}
	ss.printf("%s", addr)
	return nil
}

func cmdKill(ss *session, args []string) error {
	a, err := nargs("kill", args, 1)
	if err != nil {
		return err
	}
	if err := ss.s.rt.Kill(a[0]); err != nil {
		return err
	}
	ss.printf("killed %s", a[0])
	return nil
}

func cmdCall(ss *session, args []string) error {
	return call(ss, "call", args)
}

// traces numbers the console's traced calls.
var traces atomic.Uint64

// cmdTrace is call, traced: the request and everything it causes in Lua
// services log each hop under the tag it prints first (tern.trace).
func cmdTrace(ss *session, args []string) error {
	tag := fmt.Sprintf("console-%d", traces.Add(1))
	ss.printf("trace %s", tag)
	traced := *ss
	traced.trace = tag
	return call(&traced, "trace", args)
}

func call(ss *session, verb string, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf(`bad arguments: want "%s X CMD ARGS..."`, verb)
	}
	target, err := word(args[0])
	if err != nil {
		return err
	}
	cmd, err := word(args[1])
	if err != nil {
		return err
	}
	vals := make([]any, 0, len(args)-2)
	for _, a := range args[2:] {
		v, err := parseLiteral(a)
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	if ss.trace != "" {
		ctx = actor.WithTrace(ctx, ss.trace)
	}
	res, err := ss.s.rt.Call(ctx, target, cmd, vals...)
	if err != nil {
		return err
	}
	for _, r := range res {
		ss.line(oneLine(format(r)))
	}
	return nil
}

// pingCmd is a command no service has: its "no such command" answer is
// the round trip.
const pingCmd = "__ping"

func cmdPing(ss *session, args []string) error {
	a, err := nargs("ping", args, 1)
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	t0 := time.Now()
	_, err = ss.s.rt.Call(ctx, a[0], pingCmd)
	d := time.Since(t0)
	if err != nil && !errors.Is(err, actor.ErrNoCommand) && !strings.Contains(err.Error(), actor.ErrNoCommand.Error()) {
		return err
	}
	ss.printf("%s", d)
	return nil
}

func cmdInject(ss *session, args []string) error {
	if !ss.s.cfg.Inject {
		return errors.New("inject is disabled (console.inject = false)")
	}
	a, err := nargs("inject", args, 2)
	if err != nil {
		return err
	}
	target, err := word(a[0])
	if err != nil {
		return err
	}
	file, err := word(a[1])
	if err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	res, err := ss.s.rt.Inject(ctx, target, file)
	if err != nil {
		return err
	}
	for _, r := range res {
		ss.line(oneLine(format(r)))
	}
	return nil
}

func cmdLog(ss *session, args []string) error {
	a, err := nargs("log", args, 1)
	if err != nil {
		return err
	}
	switch strings.ToLower(a[0]) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("bad log level %q: want debug, info, warn or error", a[0])
	}
	if err := ss.s.rt.SetLogLevel(a[0]); err != nil {
		return err
	}
	ss.printf("log level %s", strings.ToLower(a[0]))
	return nil
}

func cmdRestart(ss *session, args []string) error {
	if _, err := nargs("restart", args, 0); err != nil {
		return err
	}
	ctx, cancel := ss.timeout()
	defer cancel()
	if err := ss.s.rt.Restart(ctx); err != nil {
		return err
	}
	ss.line("restarting: the new process takes over once it is ready")
	return nil
}

func cmdShutdown(ss *session, args []string) error {
	if _, err := nargs("shutdown", args, 0); err != nil {
		return err
	}
	rt := ss.s.rt
	go func() {
		if err := rt.Shutdown(context.Background()); err != nil {
			rt.Logger().Error("console: shutdown", "err", err)
		}
	}()
	ss.line("shutting down")
	return nil
}
