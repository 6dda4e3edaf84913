package gate_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"go.uber.org/goleak"
)

var protocols = []string{"len16", "len32", "line", "websocket"}

// payload is n bytes of every value but '\n' for line (which cannot
// carry one), of every value for the other protocols.
func payload(proto string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
		if proto == "line" && (b[i] == '\n' || b[i] == '\r') {
			b[i] = '.'
		}
	}
	return string(b)
}

// TestEcho: over each protocol, frames come back as they were sent: an
// empty one, one of exactly max_frame bytes, several in one write, one
// split over several writes.
func TestEcho(t *testing.T) {
	const maxFrame = 3000
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": proto, "max_frame": maxFrame})
			c := h.dial()
			big := payload(proto, maxFrame)

			c.echo("hello")
			c.echo("")
			c.echo(big)

			// Several frames in one write.
			c.send("one", "", "three", big, "five")
			for _, want := range []string{"one", "", "three", big, "five"} {
				c.expect(want)
			}

			// One frame split over several writes, its header too: a
			// byte at a time, then the rest in two.
			split := frame(proto, big)
			for i := range 7 {
				c.write(split[i : i+1])
			}
			c.write(split[7:1500])
			c.write(split[1500:])
			c.expect(big)

			// Two frames, the cut inside the second's header.
			two := append(frame(proto, "first"), frame(proto, "second")...)
			cut := len(frame(proto, "first")) + 1
			c.write(two[:cut])
			c.write(two[cut:])
			c.expect("first")
			c.expect("second")

			if proto == "line" {
				c.write([]byte("crlf\r\n"))
				c.expect("crlf")
			}

			// A second connection echoes too, and the first still does.
			c2 := h.dial()
			c2.echo("other")
			c.echo("again")
			if c.id() == c2.id() {
				t.Fatalf("two connections with id %d", c.id())
			}
		})
	}
}

// TestEchoWebSocketLibrary: a real WebSocket client (coder/websocket),
// text messages, another path, and the static directory.
func TestEchoWebSocketLibrary(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "websocket", "path": "/chat", "text": true, "static": "static", "max_frame": 5000})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+h.addr+"/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(5000)
	for _, msg := range []string{"hello", "", strings.Repeat("z", 5000)} {
		if err := ws.Write(ctx, websocket.MessageBinary, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageText || string(data) != msg {
			t.Fatalf("got %v %s, want text %s", typ, brief(string(data)), brief(msg))
		}
	}

	// Every other path is the static directory (testdata/static: a
	// relative static is found in the app directory).
	code, body := httpGet(t, "http://"+h.addr+"/index.html")
	want, _ := os.ReadFile("testdata/static/index.html")
	if code != 200 || body != string(want) {
		t.Fatalf("static: %d %q", code, body)
	}

	// A clean close from the client: its reason is "closed by peer".
	h.waitStat("connections", 1)
	if err := ws.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	h.waitStat("connections", 0)
	h.logHas("closed by peer")
}

// httpGet gets url, on a connection of its own.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: wait}
	res, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// TestBadHandshake: a plain HTTP request on the WebSocket path is
// refused with an HTTP error, and logged; without a static directory
// other paths are not found.
func TestBadHandshake(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "websocket"})
	if code, body := httpGet(t, "http://"+h.addr+"/ws"); code < 400 {
		t.Fatalf("a plain GET of /ws: %d %q", code, body)
	}
	h.logHas("gate: bad websocket handshake, connection refused")
	if code, _ := httpGet(t, "http://"+h.addr+"/index.html"); code != http.StatusNotFound {
		t.Fatalf("no static directory, yet /index.html is %d", code)
	}
	h.dial().echo("fine")
	if n := h.statInt("accepted"); n != 1 {
		t.Fatalf("accepted %d, want 1 (the refused ones are not connections)", n)
	}
}

// TestClosedInsideFrame: a client that closes in the middle of a frame
// ends with that reason, logged.
func TestClosedInsideFrame(t *testing.T) {
	for _, proto := range []string{"len16", "len32", "line"} {
		t.Run(proto, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": proto})
			c := h.dial()
			c.echo("whole")
			id := c.id()
			c.write(frame(proto, "cut short")[:5])
			if err := c.nc.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			c.expectClosed()
			if r := h.reason(h.wd, id); r != "broken frame: connection closed inside a frame" {
				t.Fatalf("reason %q", r)
			}
			h.logHas("gate: connection closed inside a frame")
			if n := asInt(t, h.call(h.wd, "messages")[0]); n != 1 {
				t.Fatalf("the watchdog got %d messages, want 1", n)
			}
		})
	}
}

// TestInterleavedWriters: two services write to one connection at the
// same time: every frame arrives, each writer's in its order.
func TestInterleavedWriters(t *testing.T) {
	const n = 2000
	h := startGate(t, map[string]any{"protocol": "line"})
	c := h.dial()
	h.call(h.wd, "writers", c.id(), n)
	next := map[string]int{"A": 1, "B": 1}
	switches, last := 0, ""
	for range 2 * n {
		line := c.recv()
		tag, num, ok := strings.Cut(line, " ")
		k, err := strconv.Atoi(num)
		if !ok || err != nil || (tag != "A" && tag != "B") {
			t.Fatalf("bad frame %q", line)
		}
		if k != next[tag] {
			t.Fatalf("writer %s: got %d, want %d", tag, k, next[tag])
		}
		next[tag]++
		if tag != last {
			switches++
			last = tag
		}
	}
	t.Logf("the two writers' frames alternated %d times", switches)
	if got := h.statInt("frames_out"); got != 2*n {
		t.Errorf("frames_out = %d, want %d", got, 2*n)
	}
}

// TestSlowConsumer: a client that never reads is cut off once its send
// queue passes send_buffer; another client of the gate keeps echoing.
func TestSlowConsumer(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "len32", "send_buffer": 64 << 10, "max_frame": 8192})
	slow := h.dial()
	fast := h.dial()
	fast.echo("before")
	id := slow.id()

	// Up to 64 MB, in the background, until the connection ends.
	h.call(h.wd, "flood", id, 16384, 4096)
	deadline := time.Now().Add(30 * time.Second)
	for h.reasonNow(h.wd, id) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the slow consumer is not cut off; stat %v", h.stat())
		}
		fast.echo("ping") // meanwhile the other connection works
	}
	if r := h.reason(h.wd, id); r != "slow consumer" {
		t.Fatalf("reason %q, want slow consumer", r)
	}
	h.logHas("gate: slow consumer cut off")
	h.logHas(fmt.Sprintf("watchdog: disconnect %d: slow consumer", id))
	fast.echo("after")
	slow.expectClosed()
	h.waitStat("connections", 1)
}

// TestBadInput: an oversized frame or a broken length prefix closes only
// that connection, with its reason logged and sent to the watchdog.
func TestBadInput(t *testing.T) {
	const maxFrame = 1000
	cases := []struct {
		proto, name string
		send        []byte
		reason      string // the start of the reason
	}{
		{"len16", "too large", []byte{0x03, 0xe9}, "frame too large: 1001 bytes (max_frame 1000)"},
		{"len32", "too large", []byte{0, 0, 0x03, 0xe9}, "frame too large: 1001 bytes (max_frame 1000)"},
		{"len32", "broken prefix", []byte{0x80, 0, 0, 0, 1, 2, 3}, "broken length prefix 0x80000000"},
		{"len32", "broken prefix ff", []byte{0xff, 0xff, 0xff, 0xff}, "broken length prefix 0xffffffff"},
		{"line", "too large", []byte(strings.Repeat("a", 1001)), "frame too large"},
		{"line", "too large with newline", []byte(strings.Repeat("a", 1001) + "\n"), "frame too large"},
		{"websocket", "too large", frame("websocket", strings.Repeat("a", 1001)), "frame too large"},
		{"websocket", "much too large", frame("websocket", strings.Repeat("a", 5000)), "frame too large"},
	}
	for _, tc := range cases {
		t.Run(tc.proto+" "+tc.name, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": tc.proto, "max_frame": maxFrame})
			good := h.dial()
			good.echo("hello")
			bad := h.dial()
			bad.echo(payload(tc.proto, maxFrame)) // max_frame itself is fine
			id := bad.id()
			bad.write(tc.send)
			bad.expectClosed()
			if r := h.reason(h.wd, id); !strings.HasPrefix(r, tc.reason) {
				t.Fatalf("reason %q, want %q", r, tc.reason)
			}
			h.logHas("gate: bad input, connection closed")
			h.logHas(fmt.Sprintf("watchdog: disconnect %d: %s", id, tc.reason))
			good.echo("still here")
			h.dial().echo("a new one")
			h.waitStat("connections", 2) // the bad one leaves just after its disconnect
		})
	}
}

// TestWebSocketOneByteOver: with max_frame above the reader's first
// buffer, a message of max_frame+1 bytes is refused too, not passed on.
func TestWebSocketOneByteOver(t *testing.T) {
	const maxFrame = 3000
	h := startGate(t, map[string]any{"protocol": "websocket", "max_frame": maxFrame})
	c := h.dial()
	c.echo(payload("websocket", maxFrame))
	id := c.id()
	c.send(payload("websocket", maxFrame+1))
	c.expectClosed()
	if r := h.reason(h.wd, id); !strings.HasPrefix(r, "frame too large") {
		t.Fatalf("reason %q", r)
	}
	if n := asInt(t, h.call(h.wd, "messages")[0]); n != 1 {
		t.Fatalf("the watchdog got %d messages, want 1", n)
	}
}

// TestIdleTimeout: a connection silent for idle_timeout_ms is closed;
// one that talks is not.
func TestIdleTimeout(t *testing.T) {
	for _, proto := range []string{"len16", "websocket"} {
		t.Run(proto, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": proto, "idle_timeout_ms": 200})
			start := time.Now()
			quiet := h.dial()
			busy := h.dial()
			id := quiet.id()
			deadline := time.Now().Add(wait)
			for h.reasonNow(h.wd, id) == "" {
				if time.Now().After(deadline) {
					t.Fatal("the idle connection is not closed")
				}
				busy.echo("ping")
				time.Sleep(10 * time.Millisecond) // pacing, well under the timeout
			}
			if el := time.Since(start); el < 200*time.Millisecond {
				t.Fatalf("closed after %v, before the idle timeout", el)
			}
			if r := h.reason(h.wd, id); r != "idle timeout" {
				t.Fatalf("reason %q", r)
			}
			quiet.expectClosed()
			h.logHas("gate: idle connection closed")
			busy.echo("still here")
		})
	}
}

// TestForward: after forward, a connection's messages and its
// disconnect go to the agent.
func TestForward(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "line"})
	c := h.dial()
	other := h.dial()
	c.echo("before")
	id := c.id()
	agent := actor.Addr(asInt(t, h.call(h.wd, "forward", id)[0]))
	c.send("after")
	c.expect("agent: after")
	other.echo("not forwarded")
	c.nc.Close()
	if r := h.reason(agent, id); r != "closed by peer" {
		t.Fatalf("the agent got reason %q", r)
	}
	if r := h.reasonNow(h.wd, id); r != "" {
		t.Fatalf("the watchdog got the disconnect too: %q", r)
	}
	if n := asInt(t, h.call(h.wd, "messages")[0]); n != 2 {
		t.Fatalf("the watchdog got %d messages, want 2 (before, not forwarded)", n)
	}

	// An agent that is gone: the connection's next event has nowhere to
	// go, and closes it.
	c = h.dial()
	id = c.id()
	agent = actor.Addr(asInt(t, h.call(h.wd, "forward", id)[0]))
	c.echo2("x", "agent: x")
	if err := h.rt.Send(agent, "quit"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, wait, "the agent is gone", func() bool {
		_, err := h.rt.Service(agent)
		return err != nil
	})
	c.send("anyone?")
	c.expectClosed()
	h.logHas("gate: connection closed: its events have nowhere to go")
	other.echo("still here")
}

// TestLen16MaxFrame: len16 carries at most 65535 bytes, whatever
// max_frame says.
func TestLen16MaxFrame(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "len16", "max_frame": 1 << 20})
	c := h.dial()
	c.echo(payload("len16", 65535))
	_, err := h.callErr(h.gate, "write", c.id(), strings.Repeat("a", 65536))
	if err == nil || !strings.Contains(err.Error(), "over max_frame (65535)") {
		t.Fatalf("a write of 65536 bytes on len16: %v", err)
	}
	c.echo("fine")
}

// TestBroadcast: broadcast reaches each of 1,000 connections, write_many
// only the ones named.
func TestBroadcast(t *testing.T) {
	const n = 1000
	h := startGate(t, map[string]any{"protocol": "line"})
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = h.dial()
	}
	h.waitStat("connections", n)
	h.call(h.gate, "broadcast", "news")
	for i, c := range cs {
		if got, err := c.recvWithin(wait); err != nil || got != "news" {
			t.Fatalf("client %d: %q %v", i, got, err)
		}
	}
	ids := []int64{cs[0].id(), cs[1].id(), cs[2].id()}
	h.call(h.gate, "write_many", ids, "some")
	h.call(h.gate, "broadcast", "more")
	for i, c := range cs[:4] {
		if i < 3 {
			c.expect("some")
		}
		c.expect("more")
	}
	if got := h.statInt("frames_out"); got != 2*n+3 {
		t.Fatalf("frames_out = %d, want %d", got, 2*n+3)
	}
}

// TestClose: close(id, reason) closes a connection once what was
// written to it is out.
func TestClose(t *testing.T) {
	for _, proto := range []string{"len32", "websocket"} {
		t.Run(proto, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": proto})
			c := h.dial()
			id := c.id()
			h.call(h.wd, "numbered", id, 100, 10)
			h.call(h.gate, "close", id, "bye")
			for i := 1; i <= 100; i++ {
				c.expect(strconv.Itoa(i) + " " + strings.Repeat("x", 10))
			}
			c.expectClosed()
			c.nc.Close() // as a client does: the gate need not wait (linger)
			if r := h.reason(h.wd, id); r != "bye" {
				t.Fatalf("reason %q", r)
			}
			h.call(h.gate, "close", id) // gone already: no error
		})
	}
}

// TestShutdownFlushes: on shutdown the gate writes out what is queued,
// then closes: the client reads every frame, then EOF, and the watchdog
// gets disconnect "gate shutting down".
func TestShutdownFlushes(t *testing.T) {
	const n, size = 1000, 8000
	h := startGate(t, map[string]any{"protocol": "line", "send_buffer": 16 << 20, "max_frame": 10000})
	c := h.dial()
	id := c.id()
	h.call(h.wd, "numbered", id, n, size)
	t.Logf("queued at shutdown: %d bytes", h.statInt("queued_bytes"))

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		done <- h.rt.Shutdown(ctx)
	}()
	pad := strings.Repeat("x", size)
	for i := 1; i <= n; i++ {
		c.expect(strconv.Itoa(i) + " " + pad)
	}
	c.expectClosed()
	c.nc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code := h.rt.Wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if s := fmt.Sprintf("watchdog: disconnect %d: gate shutting down", id); !strings.Contains(h.log.String(), s) {
		t.Fatalf("the log lacks %q", s)
	}
}

// TestBadCommands: a bad call fails with an error naming what was
// wrong, and the gate goes on.
func TestBadCommands(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "line", "max_frame": 100})
	c := h.dial()
	c.echo("hello")
	id := c.id()
	fresh := actor.Addr(asInt(t, h.call(h.wd, "newgate")[0]))

	cases := []struct {
		name   string
		to     actor.Addr
		cmd    string
		args   []any
		errors []string
	}{
		{"write id not a number", h.gate, "write", []any{"x", "data"}, []string{"id must be a connection id", "got a string"}},
		{"write id zero", h.gate, "write", []any{0, "data"}, []string{"id must be a connection id"}},
		{"write id fraction", h.gate, "write", []any{1.5, "data"}, []string{"id must be a connection id"}},
		{"write data not a string", h.gate, "write", []any{id, 5}, []string{"data must be a string, got a number"}},
		{"write no data", h.gate, "write", []any{id}, []string{"write(id, data) takes 2 arguments, got 1"}},
		{"write over max_frame", h.gate, "write", []any{id, strings.Repeat("a", 101)}, []string{"101 bytes is over max_frame (100)"}},
		{"write a newline", h.gate, "write", []any{id, "a\nb"}, []string{"a line frame may not hold a newline"}},
		{"write_many not a list", h.gate, "write_many", []any{id, "data"}, []string{"write_many: argument 1 must be a list of connection ids, got a number"}},
		{"write_many bad id", h.gate, "write_many", []any{[]any{id, "x"}, "data"}, []string{"ids[2] must be a connection id"}},
		{"write_many with keys", h.gate, "write_many", []any{map[any]any{int64(1): id, "x": int64(3)}, "data"}, []string{"write_many: argument 1 must be a plain list of connection ids"}},
		{"broadcast a table", h.gate, "broadcast", []any{[]any{1}}, []string{"data must be a string, got a table"}},
		{"unknown command", h.gate, "wrte", []any{id, "x"}, []string{`"wrte"`, "the gate knows open, write"}},
		{"close bad id", h.gate, "close", []any{"x"}, []string{"close: id: number expected, got string"}},
		{"close bad reason", h.gate, "close", []any{id, 5}, []string{"close: reason: string expected, got number"}},
		{"forward no agent", h.gate, "forward", []any{id, 999999}, []string{"forward: agent"}},
		{"forward no connection", h.gate, "forward", []any{123456789, int64(h.wd)}, []string{"forward: no connection 123456789"}},
		{"open twice", h.gate, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocol": "line", "watchdog": int64(h.wd)}}, []string{"the gate is open already, on " + h.addr}},
		{"open unknown option", fresh, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocl": "line", "watchdog": int64(h.wd)}}, []string{"option protocl: unknown option", `did you mean "protocol"?`}},
		{"open unknown protocol", fresh, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocol": "udp", "watchdog": int64(h.wd)}}, []string{`unknown protocol "udp"`}},
		{"open no watchdog", fresh, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocol": "line"}}, []string{"option watchdog is required"}},
		{"open bad max_frame", fresh, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocol": "line", "watchdog": int64(h.wd), "max_frame": -1}}, []string{"option max_frame"}},
		{"open path on line", fresh, "open", []any{map[string]any{"listen": "127.0.0.1:0", "protocol": "line", "watchdog": int64(h.wd), "path": "/ws"}}, []string{"are for protocol websocket"}},
		{"open not a table", fresh, "open", []any{"127.0.0.1:0"}, []string{"open takes a table of options"}},
		{"open a used address", fresh, "open", []any{map[string]any{"listen": h.addr, "protocol": "line", "watchdog": int64(h.wd)}}, []string{"open: listen " + h.addr}},
		{"write before open", fresh, "write", []any{id, "x"}, []string{`the gate is not open: call "open" first`}},
		{"broadcast before open", fresh, "broadcast", []any{"x"}, []string{`the gate is not open`}},
		{"pause before open", fresh, "pause", nil, []string{`the gate is not open`}},
	}
	for _, tc := range cases {
		_, err := h.callErr(tc.to, tc.cmd, tc.args...)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, s := range tc.errors {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, s)
			}
		}
	}

	// From Lua, the error is raised in the caller, with the message.
	res := h.call(h.wd, "try", "write", "x", "y")
	if len(res) != 2 || res[0] != false || !strings.Contains(fmt.Sprint(res[1]), "id must be a connection id") {
		t.Errorf("from Lua: %v", res)
	}

	// A bad send has nobody to fail: the gate logs it.
	if err := h.rt.Send(h.gate, "write", "x", "y"); err != nil {
		t.Fatal(err)
	}
	h.logHas("gate: bad request")

	// The gate goes on; the unopened one still opens.
	c.echo("still here")
	h.dial().echo("a new one")
	h.call(fresh, "open", map[string]any{"listen": "127.0.0.1:0", "protocol": "line", "watchdog": int64(h.wd)})
}

// TestPauseResume: a paused gate accepts nothing; resumed, it accepts
// the clients that waited.
func TestPauseResume(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "line"})
	c := h.dial()
	c.echo("hello")
	h.call(h.gate, "pause")
	if p, _ := h.stat()["paused"].(bool); !p {
		t.Fatalf("stat after pause: %v", h.stat())
	}
	c.echo("connections already open still work")

	waiting := h.dial() // the kernel completes the handshake: the gate does not accept it
	waiting.send("anyone?")
	if got, err := waiting.recvWithin(300 * time.Millisecond); err == nil {
		t.Fatalf("a paused gate answered %q", got)
	}
	if n := h.statInt("accepted"); n != 1 {
		t.Fatalf("accepted %d while paused", n)
	}

	h.call(h.gate, "resume")
	waiting.expect("anyone?")
	h.waitStat("accepted", 2)
	h.dial().echo("after resume")
	h.call(h.gate, "resume") // twice is fine
	h.call(h.gate, "pause")
	h.call(h.gate, "pause")
	h.call(h.gate, "resume")
	h.dial().echo("after pausing twice")
}

// TestStat: stat counts connections, frames and bytes.
func TestStat(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "line"})
	st := h.stat()
	if st["protocol"] != "line" || st["listen"] != h.addr || st["paused"] != false || asInt(t, st["connections"]) != 0 {
		t.Fatalf("stat: %v", st)
	}
	c := h.dial()
	c.send("a", "bb", "")
	c.expect("a")
	c.expect("bb")
	c.expect("")
	want := map[string]int64{
		"connections": 1, "accepted": 1, "refused": 0,
		"frames_in": 3, "frames_out": 3, "bytes_in": 6, "bytes_out": 6,
		"queued_bytes": 0, "writes_dropped": 0,
	}
	testutil.Eventually(t, wait, "stat counts what was sent", func() bool {
		st = h.stat()
		for k, v := range want {
			if asInt(t, st[k]) != v {
				return false
			}
		}
		return true
	})
	id := c.id()
	c.nc.Close()
	h.reason(h.wd, id)
	h.waitStat("connections", 0)
	h.call(h.gate, "write", id, "gone")
	h.waitStat("writes_dropped", 1)
	h.dial().echo("x")
	h.waitStat("accepted", 2)
	h.waitStat("bytes_in", 8)
}

// TestMaxConn: past max_conn, new connections are closed and counted.
func TestMaxConn(t *testing.T) {
	h := startGate(t, map[string]any{"protocol": "len16", "max_conn": 2})
	a, b := h.dial(), h.dial()
	a.echo("a")
	b.echo("b")
	over := h.dial()
	over.expectClosed()
	h.waitStat("refused", 1)
	h.logHas("gate: max_conn reached, connection refused")
	b.nc.Close()
	h.waitStat("connections", 1)
	h.dial().echo("room again")
}

// TestGateStopped: a gate stopped (cleanly, or at once) closes its
// connections, its watchdog hears why, and after the runtime's end no
// goroutine is left.
func TestGateStopped(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range []struct{ name, reason string }{{"stop", "gate shutting down"}, {"kill", "gate stopped"}} {
		for _, proto := range []string{"line", "websocket"} {
			t.Run(tc.name+" "+proto, func(t *testing.T) {
				h := startGate(t, map[string]any{"protocol": proto})
				cs := []*client{h.dial(), h.dial()}
				for _, c := range cs {
					c.echo("hi")
				}
				if tc.name == "stop" {
					ctx, cancel := context.WithTimeout(context.Background(), wait)
					defer cancel()
					stopped := make(chan error, 1)
					go func() { stopped <- h.rt.Stop(ctx, h.gate) }()
					for _, c := range cs {
						c.expectClosed()
						c.nc.Close()
					}
					if err := <-stopped; err != nil {
						t.Fatal(err)
					}
				} else {
					if err := h.rt.Kill(h.gate); err != nil {
						t.Fatal(err)
					}
					for _, c := range cs {
						c.expectClosed()
					}
				}
				for _, c := range cs {
					if r := h.reason(h.wd, c.id()); r != tc.reason {
						t.Fatalf("reason %q, want %q", r, tc.reason)
					}
				}
				if _, err := net.DialTimeout("tcp", h.addr, wait); err == nil {
					t.Fatal("the stopped gate still listens")
				}
			})
		}
	}
}

// TestNoLeak: a runtime that ends with connections open, over each
// protocol, leaves no goroutine behind; its clients see the close.
func TestNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := startGate(t, map[string]any{"protocol": proto})
			var cs []*client
			for range 3 {
				c := h.dial()
				c.echo("hi")
				cs = append(cs, c)
			}
			cs = append(cs, h.dial()) // one that never sends a frame
			half := h.dial()          // one inside a frame
			half.write(frame(proto, "unfinished")[:3])
			cs = append(cs, half)
			h.waitStat("connections", 5)
			if proto == "line" {
				// One client that does not close its side: the gate
				// waits for it a little (linger), then closes hard.
				h.dial()
				h.waitStat("connections", 6)
			}
			errs := make(chan error, len(cs))
			for _, c := range cs {
				go func() {
					err := c.closed()
					c.nc.Close()
					errs <- err
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := h.rt.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			for range cs {
				if err := <-errs; err != nil {
					t.Errorf("a client: %v", err)
				}
			}
		})
	}
}
