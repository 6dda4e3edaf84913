package console

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/root"
	"go.uber.org/goleak"
)

// startRT boots a runtime on testdata with no bootstrap; decl is declared.
func startRT(t *testing.T) (*root.Runtime, *testutil.Buffer) {
	t.Helper()
	return roottest.Start(t, root.Config{
		Path:     []string{"testdata/?.lua"},
		Services: map[string]names.Decl{"decl": {Script: "decl"}},
	})
}

func startConsole(t *testing.T, rt *root.Runtime, inject bool) *Server {
	t.Helper()
	s, err := Start(rt, root.ConsoleConfig{Listen: "127.0.0.1:0", Inject: inject})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func load(t *testing.T, rt *root.Runtime, name, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := rt.Load(ctx, name, script)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return a.String()
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// do sends line and reads the reply: its output lines and whether it
// ended with <CMD OK>.
func (cl *client) do(line string) ([]string, bool) {
	cl.t.Helper()
	cl.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(cl.c, line+"\n"); err != nil {
		cl.t.Fatalf("%s: write: %v", line, err)
	}
	var out []string
	for {
		s, err := cl.r.ReadString('\n')
		if err != nil {
			cl.t.Fatalf("%q: read: %v (so far %q)", line, err, out)
		}
		s = strings.TrimSuffix(s, "\n")
		switch s {
		case "<CMD OK>":
			return out, true
		case "<CMD Error>":
			return out, false
		}
		out = append(out, s)
	}
}

// ok runs line, wants <CMD OK>, and returns the output joined by newlines.
func (cl *client) ok(line string) string {
	cl.t.Helper()
	out, ok := cl.do(line)
	if !ok {
		cl.t.Fatalf("%q: <CMD Error>: %q", line, out)
	}
	return strings.Join(out, "\n")
}

// fails runs line, wants <CMD Error> after one line holding want.
func (cl *client) fails(line, want string) {
	cl.t.Helper()
	out, ok := cl.do(line)
	if ok {
		cl.t.Fatalf("%q: <CMD OK>, want an error: %q", line, out)
	}
	if len(out) != 1 || !strings.Contains(out[0], want) {
		cl.t.Fatalf("%q: got %q, want one line containing %q", line, out, want)
	}
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", what, got, w)
		}
	}
}

func TestCommands(t *testing.T) {
	rt, log := startRT(t)
	echo := load(t, rt, "echo", "echo")
	load(t, rt, "v1", "versioned")
	load(t, rt, "v2", "versioned")
	s := startConsole(t, rt, false)
	cl := dial(t, s)

	contains(t, "help", cl.ok("help"), "call X CMD", "inject X", "reloadall SCRIPT", "shutdown")
	contains(t, "list", cl.ok("list"), echo+"\techo\t", "versioned", "running")
	contains(t, "info", cl.ok("info echo"), "addr\t"+echo, "name\techo", "script\t", "state\trunning", "handled\t")
	contains(t, "info by address", cl.ok("info "+echo), "name\techo")
	contains(t, "info quoted", cl.ok(`info "echo"`), "name\techo")
	contains(t, "mem", cl.ok("mem"), "heap_alloc\t", "goroutines\t", "addr\tname\tscript\tmemory", echo+"\techo\t")
	contains(t, "gc", cl.ok("gc"), "num_gc\t")
	contains(t, "stat", cl.ok("stat"), "addr\tname\tqueued\tpeak\thandled\tsent\terrors\tbusy\ttasks\tmemory", echo+"\techo\t0\t")

	if got := cl.ok("call echo add 1 2"); got != "3" {
		t.Errorf("call add: %q", got)
	}
	got := cl.ok("trace echo add 1 2")
	tag := strings.TrimPrefix(strings.Split(got, "\n")[0], "trace ")
	if !strings.HasPrefix(tag, "console-") || !strings.HasSuffix(got, "\n3") {
		t.Errorf("trace add: %q", got)
	}
	hop := "tag=" + tag + " hop=recv from=:00000000 cmd=add kind=call"
	testutil.Eventually(t, 5*time.Second, "the traced call's hop in the log", func() bool { return strings.Contains(log.String(), hop) })
	if got := cl.ok("call echo add 1, 2.5"); got != "3.5" {
		t.Errorf("call add with a comma: %q", got)
	}
	got = cl.ok(`call echo echo "a b" 'c\n' {1, 2, x = 3, ["y z"] = {true}} true nil -7 0x10`)
	want := "\"a b\"\n\"c\\n\"\n{[1] = 1, [2] = 2, x = 3, [\"y z\"] = {true}}\ntrue\nnil\n-7\n16"
	if got != want {
		t.Errorf("call echo:\n got %q\nwant %q", got, want)
	}
	if got := cl.ok("call " + echo + " multi"); got != "1\n\"two\\nlines\"\n{[1] = 1, [2] = 2, x = 3}" {
		t.Errorf("call multi: %q", got)
	}
	if got := cl.ok("call echo echo {}"); got != "{}" {
		t.Errorf("call with {}: %q", got)
	}
	cl.fails(`call echo fail "boom"`, "boom")
	cl.fails("call echo nosuch", "no such command")
	cl.fails("call echo add x", `"x" is not a literal`)
	cl.fails("call echo", "bad arguments")
	cl.fails("call nobody add 1 2", "nobody")

	contains(t, "ping", cl.ok("ping echo"), "s")
	cl.fails("ping nobody", "nobody")

	contains(t, "reload", cl.ok("reload echo"), "reloaded echo")
	if got := cl.ok("call echo add 2 2"); got != "4" {
		t.Errorf("call after reload: %q", got)
	}
	cl.fails("reload nobody", "nobody")
	if got := cl.ok("reloadall versioned.lua"); got != "reloaded 2" {
		t.Errorf("reloadall: %q", got)
	}
	if got := cl.ok("reloadall nosuch"); got != "reloaded 0" {
		t.Errorf("reloadall of nothing: %q", got)
	}

	decl := cl.ok("start decl")
	if !strings.HasPrefix(decl, ":") {
		t.Errorf("start decl: %q", decl)
	}
	if got := cl.ok("call decl hello"); got != `"hello"` {
		t.Errorf("call decl: %q", got)
	}
	contains(t, "stop", cl.ok("stop decl"), "stopped decl")
	cl.fails("call "+decl+" hello", "no such service")
	cl.fails("start nosuch", "nosuch")

	contains(t, "kill", cl.ok("kill v1"), "killed v1")
	cl.fails("call v1 version", "v1")
	cl.fails("kill nobody", "nobody")

	cl.ok("log debug")
	cl.fails("log loud", "bad log level")
	cl.fails("inject echo patch.lua", "inject is disabled (console.inject = false)")

	// Bad commands and arguments leave the connection usable.
	cl.fails("frobnicate", `unknown command "frobnicate"`)
	cl.fails("info", "bad arguments")
	cl.fails("info a b", "bad arguments")
	cl.fails("info {1}", "a table")
	cl.fails(`info "unterminated`, "unterminated string")
	cl.fails("call echo echo {1, 2", "unclosed")
	cl.fails("mem now", "bad arguments")
	io.WriteString(cl.c, "\n   \n") // blank lines get no reply
	contains(t, "after errors", cl.ok("INFO echo"), "name\techo")
}

func TestInjectEnabled(t *testing.T) {
	rt, _ := startRT(t)
	load(t, rt, "echo", "echo")
	cl := dial(t, startConsole(t, rt, true))
	cl.fails("inject echo", "bad arguments")
	contains(t, "inject", cl.ok("inject echo patch.lua"), `"patched"`, "1")
	contains(t, "inject again", cl.ok("inject echo patch.lua"), "2") // the same VM's globals
	cl.fails("inject echo /etc/passwd", "outside the script path")
	cl.fails("inject echo nosuch.lua", "not found")
	cl.fails("inject root patch.lua", "no such service")
	cl.fails("inject :00000001 patch.lua", "not a Lua service")
}

func TestLongLineClosesOnlyItsConnection(t *testing.T) {
	rt, _ := startRT(t)
	load(t, rt, "echo", "echo")
	s := startConsole(t, rt, false)
	a, b := dial(t, s), dial(t, s)
	contains(t, "before", a.ok("call echo add 1 1"), "2")

	go io.WriteString(a.c, "call echo echo \""+strings.Repeat("x", MaxLine+10)+"\"\n")
	a.c.SetDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(a.r)
	if err != nil {
		t.Fatalf("read after a long line: %v", err)
	}
	contains(t, "long line", string(rest), "line longer than", "<CMD Error>")

	if got := b.ok("call echo add 2 3"); got != "5" {
		t.Errorf("second connection: %q", got)
	}
	// A line just under the limit is fine.
	c := dial(t, s)
	long := strings.Repeat("y", MaxLine-100)
	if got := c.ok(`call echo echo "` + long + `"`); got != `"`+long+`"` {
		t.Errorf("a long line under the limit: %d bytes back", len(got))
	}
}

func TestShutdown(t *testing.T) {
	rt, _ := startRT(t)
	s := startConsole(t, rt, false)
	cl := dial(t, s)
	contains(t, "shutdown", cl.ok("shutdown"), "shutting down")
	select {
	case <-rt.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the runtime did not end")
	}
	// The console closes with the runtime.
	cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cl.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Errorf("read after shutdown: %v, want EOF", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("the console still accepts connections")
	}
	if rt.Wait() != 0 {
		t.Errorf("exit code %d", rt.Wait())
	}
}

func TestCloseClosesConnections(t *testing.T) {
	rt, _ := startRT(t)
	s, err := Start(rt, root.ConsoleConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cl := dial(t, s)
	cl.ok("mem")
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cl.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Errorf("read after Close: %v, want EOF", err)
	}
	s.Close() // twice is fine
	if _, err := Start(rt, root.ConsoleConfig{}); err == nil {
		t.Error("Start with no address succeeded")
	}
}

// TestNoGoroutineLeak: after Close and the runtime's end, nothing the
// console started is left, even with connections open mid-command.
func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("run", func(t *testing.T) {
		rt, _ := startRT(t)
		load(t, rt, "echo", "echo")
		s := startConsole(t, rt, false)
		for range 5 {
			cl := dial(t, s)
			cl.ok("call echo add 1 2")
			io.WriteString(cl.c, "list") // a line without its newline yet
		}
	})
}
