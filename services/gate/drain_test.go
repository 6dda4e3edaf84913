package gate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/root"
)

// startDrain boots a runtime whose bootstrap is testdata/drain.lua, a
// watchdog that holds the frames "hold X" until released, and opens its
// gate over proto.
func startDrain(t *testing.T, proto string, timeout time.Duration) *harness {
	t.Helper()
	rt, log := roottest.Start(t, root.Config{Bootstrap: "testdata/drain.lua", ShutdownTimeout: timeout})
	h := &harness{t: t, rt: rt, log: log, proto: proto}
	for _, s := range rt.Services() {
		if strings.HasSuffix(s.Script, "drain.lua") {
			h.wd = s.Addr
		}
	}
	if h.wd == actor.None {
		t.Fatalf("no watchdog among %+v", rt.Services())
	}
	res := h.call(h.wd, "open", map[string]any{"listen": "127.0.0.1:0", "protocol": proto})
	if len(res) != 2 {
		t.Fatalf("open: %v", res)
	}
	h.addr, _ = res[0].(string)
	h.gate = actor.Addr(asInt(t, res[1]))
	return h
}

// shutdown shuts the runtime down in the background; the channel gets
// Shutdown's error, then the exit code.
func (h *harness) shutdown() <-chan int {
	code := make(chan int, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*wait)
		defer cancel()
		if err := h.rt.Shutdown(ctx); err != nil {
			h.t.Errorf("shutdown: %v", err)
		}
		code <- h.rt.Wait()
	}()
	return code
}

// draining waits until the gate has begun its drain: its stat says so,
// and a call it answers comes after its Shutdown.
func (h *harness) draining() {
	h.t.Helper()
	testutil.Eventually(h.t, wait, "the gate drains", func() bool {
		d, _ := h.stat()["draining"].(bool)
		return d
	})
}

// TestShutdownAnswersInFlight: a request the server accepted before the
// shutdown is answered, however late: the gate still takes the
// watchdog's write while it drains, and closes the connection only after
// it (a clean close, with the reason "gate shutting down"); frames sent
// once the drain began are read and dropped, on that connection and on
// another; the process exits with code 0.
func TestShutdownAnswersInFlight(t *testing.T) {
	for _, proto := range []string{"line", "len32", "websocket"} {
		t.Run(proto, func(t *testing.T) {
			h := startDrain(t, proto, 4*wait)
			busy, quiet := h.dial(), h.dial()
			busy.echo("before")
			quiet.echo("hi")
			busyID, quietID := busy.id(), quiet.id()
			busy.send("hold the answer")
			testutil.Eventually(t, wait, "the watchdog holds the request", func() bool {
				return asInt(t, h.call(h.wd, "held")[0]) == 1
			})

			start := time.Now()
			code := h.shutdown()
			h.draining()
			quiet.send("late")
			busy.send("late too")
			h.waitStat("frames_in", 5) // before, hi, hold, and the two late ones, read
			if n := asInt(t, h.call(h.wd, "messages")[0]); n != 3 {
				t.Fatalf("the watchdog got %d messages, want 3", n)
			}
			if n := h.statInt("connections"); n != 2 {
				t.Fatalf("%d connections while a request is in flight, want 2", n)
			}

			h.call(h.wd, "release")
			busy.expect("the answer")
			for _, c := range []*client{busy, quiet} {
				c.expectClosed()
				c.nc.Close()
			}
			if c := <-code; c != 0 {
				t.Fatalf("exit code %d", c)
			}
			if el := time.Since(start); el > 4*wait*9/10 {
				t.Fatalf("the shutdown took %v: the deadline closed the gate", el)
			}
			log := h.log.String()
			for _, id := range []int64{busyID, quietID} {
				if s := fmt.Sprintf("drain watchdog: disconnect %d: gate shutting down", id); !strings.Contains(log, s) {
					t.Errorf("the log lacks %q", s)
				}
			}
			if strings.Contains(log, "message late") {
				t.Error("a frame sent during the drain reached the watchdog")
			}
		})
	}
}

// TestShutdownDrainDeadline: a request still unanswered at the shutdown
// deadline does not hold the process: the gate closes its connection
// hard a little before, and confirms in time.
func TestShutdownDrainDeadline(t *testing.T) {
	const timeout = 3 * time.Second
	h := startDrain(t, "line", timeout)
	c := h.dial()
	c.echo("before")
	id := c.id()
	c.send("hold forever")
	testutil.Eventually(t, wait, "the watchdog holds the request", func() bool {
		return asInt(t, h.call(h.wd, "held")[0]) == 1
	})
	start := time.Now()
	code := h.shutdown()
	c.expectClosed()
	c.nc.Close()
	if el := time.Since(start); el < timeout/2 {
		t.Fatalf("closed after %v, long before the deadline (%v), its request unanswered", el, timeout)
	}
	if got := <-code; got != 0 {
		t.Fatalf("exit code %d", got)
	}
	if s := fmt.Sprintf("drain watchdog: disconnect %d: shutdown deadline", id); !strings.Contains(h.log.String(), s) {
		t.Fatalf("the log lacks %q", s)
	}
}

// TestShutdownAnswersInFlightAgent: a connection forwarded to an agent
// is closed once the agent has answered, though the watchdog is idle.
func TestShutdownAnswersInFlightAgent(t *testing.T) {
	h := startDrain(t, "line", 4*wait)
	c := h.dial()
	id := c.id()
	agent := actor.Addr(asInt(t, h.call(h.wd, "forward", id)[0]))
	c.echo2("x", "agent: x")
	c.send("hold the answer")
	testutil.Eventually(t, wait, "the agent holds the request", func() bool {
		return asInt(t, h.call(agent, "held")[0]) == 1
	})
	code := h.shutdown()
	h.draining()
	h.call(agent, "release")
	c.expect("agent: the answer")
	c.expectClosed()
	c.nc.Close()
	if got := <-code; got != 0 {
		t.Fatalf("exit code %d", got)
	}
	if s := fmt.Sprintf("drain watchdog: disconnect %d", id); strings.Contains(h.log.String(), s) {
		t.Fatalf("the watchdog got the disconnect of a forwarded connection: %q", s)
	}
}
