package lua_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/lua"
)

// newBudgetEnv is a runtime with the monitor set: warnings past warn, the
// budget kill (0: none), on workers workers (0: GOMAXPROCS).
func newBudgetEnv(t *testing.T, workers int, warn, kill time.Duration) *env {
	t.Helper()
	e := newEnvOptions(t, actor.Options{Workers: workers}, lua.Config{Path: []string{"testdata/?.lua"}})
	e.sys.SetMonitor(actor.Monitor{WarnAfter: warn, KillAfter: kill})
	return e
}

const budgetErr = "handler ran past kill_ms (200 ms)"

// A handler in an endless loop is named in the log (service, address,
// command, running time), and stopped past kill_ms by an error raised at
// its line: its caller gets the error, and the service answers its next
// call. Another service keeps answering meanwhile, even on one worker.
func TestBudgetStopsEndlessLoop(t *testing.T) {
	e := newBudgetEnv(t, 1, 50*time.Millisecond, 200*time.Millisecond)
	a := e.launch(t, "budget")
	other := e.launch(t, "echo")

	spun := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := e.try(a, "spin")
		spun <- err
	}()
	// Calls to another service go on while a spins.
	var answered, slowest int64
	var err error
	for done := false; !done; {
		select {
		case err = <-spun:
			done = true
		default:
			t0 := time.Now()
			if _, err := e.try(other, "add", 1, 2); err != nil {
				t.Fatalf("call beside a spinning service: %v", err)
			}
			answered++
			slowest = max(slowest, int64(time.Since(t0)))
			time.Sleep(time.Millisecond)
		}
	}
	took := time.Since(start)
	if answered < 10 {
		t.Errorf("only %d calls answered beside the spinning service", answered)
	}
	if time.Duration(slowest) > 100*time.Millisecond {
		t.Errorf("a call beside the spinning service took %v", time.Duration(slowest))
	}
	t.Logf("spin stopped after %v; %d calls answered meanwhile, the slowest in %v", took, answered, time.Duration(slowest))
	if err == nil || !errors.Is(err, actor.ErrRemote) || !strings.Contains(err.Error(), "budget.lua:12: "+budgetErr) {
		t.Fatalf("spin: %v, want the budget error at budget.lua:12 (the loop's end)", err)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("spin stopped after %v, want a little over 200ms", took)
	}
	if res := e.call(t, a, "ping", 7); res[0] != int64(7) {
		t.Fatalf("ping after the stop: %v", res)
	}
	log := e.log.String()
	addr := regexp.QuoteMeta(a.String())
	warn := regexp.MustCompile(`level=WARN msg="a handler is running for a long time \(maybe in an endless loop\)" service=budget addr=` + addr + ` cmd=spin running=(\d+)ms`)
	warnings := warn.FindAllStringSubmatch(log, -1)
	if len(warnings) < 2 {
		t.Fatalf("want warnings at about 50ms and 100ms (doubling), got %q", warnings)
	}
	// The warnings come as the running time passes 50ms, 100ms, 200ms...:
	// the doubling is of the threshold, not of the time a warning was
	// logged at (a tick late, up to a few ms).
	next := 50
	for i, w := range warnings {
		var ms int
		fmt.Sscan(w[1], &ms)
		if ms < next {
			t.Errorf("warning %d at %dms: want it at %dms or later (50ms, then each time the time doubles)", i+1, ms, next)
		}
		for next <= ms {
			next *= 2
		}
	}
	if !strings.Contains(log, `msg="a handler ran past its budget; interrupting it" service=budget addr=`+a.String()+` cmd=spin`) {
		t.Errorf("no log of the interruption")
	}
	if !strings.Contains(log, `msg="handler failed" service=budget addr=`+a.String()+` cmd=spin err="testdata/budget.lua:12: `+budgetErr) {
		t.Errorf("the failure is not logged with its position")
	}
}

// The budget error cannot be swallowed: a loop of pcalls, an endless loop
// inside a pcall or xpcall retried forever, a pcall that would return the
// error, a spinning script coroutine, a numeric for, a repeat, endless
// tail calls: each is stopped, the caller gets the budget error, and the
// service answers its next call.
func TestBudgetThroughPcall(t *testing.T) {
	e := newBudgetEnv(t, 0, time.Hour, 200*time.Millisecond)
	a := e.launch(t, "budget")
	cmds := []string{"pcall_loop", "pcall_inner", "xpcall_inner", "caught", "spin_coroutine", "spin_for", "spin_repeat", "spin_tail"}
	var wg sync.WaitGroup
	for _, cmd := range cmds {
		wg.Add(1)
		go func() { // one after another: the service runs one handler at a time
			defer wg.Done()
			res, err := e.try(a, cmd)
			if err == nil || !strings.Contains(err.Error(), budgetErr) || !strings.Contains(err.Error(), "budget.lua:") {
				t.Errorf("%s: %v %v, want the budget error", cmd, res, err)
			}
		}()
	}
	wg.Wait()
	if res := e.call(t, a, "ping", "after"); res[0] != "after" {
		t.Fatalf("ping after: %v", res)
	}
}

// The budget counts the running time of one run, not the time a request
// takes: a handler suspended in tern.sleep for longer than kill_ms is not
// stopped, nor is one that works in slices shorter than kill_ms with a
// yield between (tern.sleep(0)), though the whole takes longer.
func TestBudgetCountsRunningTimeOnly(t *testing.T) {
	e := newBudgetEnv(t, 0, time.Hour, 200*time.Millisecond)
	a := e.launch(t, "budget")
	if res := e.call(t, a, "sleep", 500); res[0] != "slept" {
		t.Fatalf("sleep: %v", res)
	}
	t0 := time.Now()
	if res := e.call(t, a, "slices", 6, 80); res[0] != "done" {
		t.Fatalf("slices: %v", res)
	}
	if took := time.Since(t0); took < 400*time.Millisecond { // kill_ms twice over
		t.Fatalf("slices took %v: the test proves nothing", took)
	}
	if strings.Contains(e.log.String(), "past its budget") {
		t.Fatalf("a budget was hit:\n%s", e.log.String())
	}
}

// A forked task that spins is named "(task)" in the warnings, and stopped
// as a request is; the service then answers.
func TestBudgetStopsFork(t *testing.T) {
	e := newBudgetEnv(t, 0, 50*time.Millisecond, 200*time.Millisecond)
	a := e.launch(t, "budget")
	if res := e.call(t, a, "fork_spin"); res[0] != "forked" {
		t.Fatalf("fork_spin: %v", res)
	}
	if res := e.call(t, a, "ping", 1); res[0] != int64(1) {
		t.Fatalf("ping: %v", res)
	}
	log := e.log.String()
	if !strings.Contains(log, `service=budget addr=`+a.String()+` cmd=(task)`) {
		t.Errorf("the fork is not named (task)")
	}
	if !strings.Contains(log, `msg="task failed" service=budget addr=`+a.String()+` cmd="" err="testdata/budget.lua:106: `+budgetErr) || !strings.Contains(log, budgetErr) {
		t.Errorf("the fork's stop is not logged")
	}
}

// No budget by default: kill_ms off, a long handler runs to its end (with
// warnings).
func TestBudgetOffByDefault(t *testing.T) {
	e := newBudgetEnv(t, 0, 50*time.Millisecond, 0)
	a := e.launch(t, "spinner")
	if res := e.call(t, a, "spin", 300); res[0] != "spun" {
		t.Fatalf("spin: %v", res)
	}
	log := e.log.String()
	if !strings.Contains(log, "cmd=spin running=") || strings.Contains(log, "past its budget") {
		t.Fatalf("want warnings, no budget:\n%s", log)
	}
}

// A Go handler cannot be interrupted: past the budget, it is named in a
// warning, and runs to its end.
func TestBudgetGoService(t *testing.T) {
	e := newBudgetEnv(t, 0, time.Hour, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ran atomic.Bool
	g, err := e.sys.Launch(ctx, actor.Handlers{
		"slow": func(*actor.Context, []any) ([]any, error) {
			time.Sleep(300 * time.Millisecond)
			ran.Store(true)
			return []any{"ok"}, nil
		},
	}, actor.SpawnOptions{Name: "goslow"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.try(g, "slow")
	if err != nil || res[0] != "ok" || !ran.Load() {
		t.Fatalf("slow: %v %v", res, err)
	}
	if !strings.Contains(e.log.String(), `msg="a handler ran past its budget; a Go service cannot be interrupted" service=goslow addr=`+g.String()+` cmd=slow`) {
		t.Fatalf("no warning")
	}
}
