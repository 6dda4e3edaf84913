package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
)

// builtBinary is the real tern binary, built once by TestMain.
var builtBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tern-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builtBinary = filepath.Join(dir, "tern")
	if out, err := exec.Command("go", "build", "-o", builtBinary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary is the real tern binary.
func binary(*testing.T) string { return builtBinary }

func runTern(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func TestBinary(t *testing.T) {
	bin := binary(t)
	t.Run("hello", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "../../examples/hello")
		if code != 0 || !strings.Contains(out, "hello, Barbara! (greeting #3)") || !strings.Contains(out, `no such command`) || !strings.Contains(out, "hello: Ada, Grace, Barbara") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("version", func(t *testing.T) {
		out, code := runTern(t, bin, "version")
		if code != 0 || !strings.HasPrefix(out, "tern ") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("boot failure", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "testdata/boom")
		if code != 1 || !strings.Contains(out, "the bootstrap refuses to start") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("missed deadline", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "testdata/slow")
		if code != 2 || !strings.Contains(out, "missed the shutdown deadline") || !strings.Contains(out, "name=main") || !strings.Contains(out, "cleaning up, slowly") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("shutdown code", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "testdata/code")
		if code != 7 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("json logs", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "testdata/json")
		if code != 0 || !strings.Contains(out, `{"time":`) || !strings.Contains(out, `"msg":"in json","service":"main"`) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		out, code := runTern(t, bin, "run", "testdata/nothing-here")
		if code != 1 || !strings.Contains(out, "nothing-here") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		// 64 (EX_USAGE), not 2: that means a missed shutdown deadline
		for _, args := range [][]string{{"frobnicate"}, {}, {"run"}, {"run", "a", "b"}} {
			out, code := runTern(t, bin, args...)
			if code != 64 || !strings.Contains(out, "usage:") || !strings.Contains(out, "64 bad command line") {
				t.Fatalf("%q: exit %d:\n%s", args, code, out)
			}
		}
		if out, _ := runTern(t, bin, "frobnicate"); !strings.Contains(out, `unknown command "frobnicate"`) {
			t.Fatal(out)
		}
	})
	t.Run("sigterm", func(t *testing.T) {
		p := startTern(t, bin, "testdata/forever")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		if code := p.exitCode(t); code != 0 {
			t.Fatalf("exit %d after SIGTERM\n%s", code, p.out)
		}
	})
	t.Run("second signal", func(t *testing.T) {
		p := startTern(t, bin, "testdata/stubborn")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		p.waitLine(t, `msg="cleaning up"`)
		p.signal(t, syscall.SIGINT)
		if code := p.exitCode(t); code != 3 {
			t.Fatalf("exit %d after a second signal, want 3\n%s", code, p.out)
		}
	})
}

// TestBinaryHangs: each case once left the binary running forever after
// the shutdown (Start waited for a bootstrap that would never report).
// Reload under load, on the built binary: 100,000 numbered messages to a
// counter reloaded 20 times meanwhile all arrive, in order, at the same
// address.
func TestBinaryReloadUnderLoad(t *testing.T) {
	out, code := runTern(t, binary(t), "run", "testdata/reload")
	if code != 0 || !strings.Contains(out, "RELOAD count=100000 last=100000 bad=0 same_addr=true reloads=20") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if n := strings.Count(out, "msg=reloaded"); n != 20 {
		t.Fatalf("%d reloads logged, want 20:\n%s", n, out)
	}
}

// tern run --watch reloads a service within a second of an edit of its
// script.
func TestBinaryWatch(t *testing.T) {
	dir := t.TempDir()
	ver := func(v string) {
		t.Helper()
		src := "local S = {}\nfunction S.get() return \"" + v + "\" end\nreturn S\n"
		if err := os.WriteFile(filepath.Join(dir, "ver.lua"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ver("v1")
	main := `local tern = require "tern"
local v = tern.newservice("ver")
tern.fork(function()
	local last = tern.call(v, "get")
	print("VERSION " .. last)
	while true do
		tern.sleep(10)
		local now = tern.call(v, "get")
		if now ~= last then
			print("VERSION " .. now)
			tern.shutdown()
			return
		end
	end
end)
`
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startTern(t, binary(t), "--watch", dir)
	p.waitLine(t, "watching for script changes")
	p.waitLine(t, "VERSION v1")
	ver("v2")
	p.waitLine(t, "VERSION v2") // picked up by the watch: nothing else reloads
	if code := p.exitCode(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.out)
	}
}

// The binary serves the admin API and the console that config.lua
// enables: both list the services, and the admin API shuts it down.
func TestBinaryOperate(t *testing.T) {
	p := startTern(t, binary(t), "testdata/operate")
	addr := func(what string) string {
		t.Helper()
		re := regexp.MustCompile(`msg="` + what + `" \w+=(127\.0\.0\.1:\d+)`)
		p.waitLine(t, `msg="`+what+`"`)
		m := re.FindStringSubmatch(p.out.String())
		if m == nil {
			t.Fatalf("no %s address:\n%s", what, p.out)
		}
		return m[1]
	}
	api, con := addr("admin API"), addr("console listening")
	req, _ := http.NewRequest("GET", "http://"+api+"/services", nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "counter.lua") {
		t.Fatalf("GET /services: %d %s", resp.StatusCode, body)
	}
	c, err := net.DialTimeout("tcp", con, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "list\n")
	var got strings.Builder
	sc := bufio.NewScanner(c)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "<CMD") {
		got.WriteString(sc.Text() + "\n")
	}
	if sc.Text() != "<CMD OK>" || !strings.Contains(got.String(), "counter.lua") {
		t.Fatalf("console list: %q then %q", got.String(), sc.Text())
	}
	// tern console, not on a terminal: commands from stdin, replies
	// without their end markers, exit 1 when the last command failed.
	cl := exec.Command(binary(t), "console", con)
	cl.Stdin = strings.NewReader("list\nnosuch\n")
	clOut, err := cl.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(clOut), "counter.lua") || !strings.Contains(string(clOut), "nosuch") || strings.Contains(string(clOut), "<CMD") {
		t.Fatalf("tern console: %v\n%s", err, clOut)
	}
	req, _ = http.NewRequest("POST", "http://"+api+"/shutdown", nil)
	req.Header.Set("Authorization", "Bearer secret")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := p.exitCode(t); code != 0 {
		t.Fatalf("exit %d after POST /shutdown:\n%s", code, p.out)
	}
}

func TestBinaryHangs(t *testing.T) {
	bin := binary(t)
	t.Run("TERM while the top level sleeps", func(t *testing.T) {
		// A shutdown during boot: logged as such, not as a boot failure,
		// and the exit code is the shutdown's.
		p := startTern(t, bin, "testdata/sleepy")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		code := p.exitCode(t)
		out := p.out.String()
		if code != 0 || !strings.Contains(out, `level=INFO msg="shutdown during boot"`) || strings.Contains(out, "boot failed") || strings.Contains(out, "level=ERROR") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("TERM TERM while the top level sleeps", func(t *testing.T) {
		p := startTern(t, bin, "testdata/sleepy")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		p.waitLine(t, "msg=shutdown")
		p.signal(t, syscall.SIGTERM)
		// Depending on how far the first shutdown got, clean or forced;
		// either way, at once.
		if code := p.exitCode(t); code != 0 && code != 3 {
			t.Fatalf("exit %d:\n%s", code, p.out)
		}
	})
	t.Run("TERM TERM while the top level sleeps and on_shutdown is slow", func(t *testing.T) {
		// The anonymous bootstrap runs its on_shutdown too; a second
		// signal cuts it short.
		p := startTern(t, bin, "testdata/bootsleep")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		p.waitLine(t, `msg="cleaning up" service=main`)
		p.signal(t, syscall.SIGTERM)
		code := p.exitCode(t)
		if out := p.out.String(); code != 3 || !strings.Contains(out, `msg="second signal: exiting now"`) {
			t.Fatalf("exit %d, want 3:\n%s", code, out)
		}
	})
	t.Run("TERM while the top level loops forever", func(t *testing.T) {
		// The bootstrap (anonymous) misses the 300 ms deadline: it is
		// named, and the exit code is 2.
		p := startTern(t, bin, "testdata/spin")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		code := p.exitCode(t)
		out := p.out.String()
		if code != 2 || !strings.Contains(out, `msg="service missed the shutdown deadline; stopping it" service=root addr=:00000001 name=main at=:00000004`) || !strings.Contains(out, "msg=stopped") {
			t.Fatalf("exit %d, want 2:\n%s", code, out)
		}
	})
	t.Run("second signal while a service loops forever", func(t *testing.T) {
		// The root waits (60 s) for a service that never answers; the
		// second signal exits at once all the same.
		p := startTern(t, bin, "testdata/spinlong")
		p.waitLine(t, "msg=up")
		p.signal(t, syscall.SIGTERM)
		p.waitLine(t, "msg=shutdown")
		p.signal(t, syscall.SIGINT)
		code := p.exitCode(t)
		if out := p.out.String(); code != 3 || !strings.Contains(out, `msg="second signal: exiting now"`) {
			t.Fatalf("exit %d, want 3:\n%s", code, out)
		}
	})
	t.Run("TERM while config.lua loads", func(t *testing.T) {
		// Before the runtime exists: caught all the same (no death by
		// signal, exit 143), and a clean shutdown follows.
		p := startTern(t, bin, "testdata/early")
		p.waitLine(t, "config loading")
		p.signal(t, syscall.SIGTERM)
		code := p.exitCode(t)
		out := p.out.String()
		if code != 0 || !strings.Contains(out, `msg="shutdown during boot"`) || !strings.Contains(out, "msg=stopped") || strings.Contains(out, "bootstrap ran") {
			t.Fatalf("exit %d, want 0:\n%s", code, out)
		}
	})
}

// ternProc is a running tern binary and its output (stdout and stderr).
type ternProc struct {
	cmd    *exec.Cmd
	out    *testutil.Buffer
	exited chan struct{} // closed once it has exited
	err    error         // cmd.Wait's, valid after exited
}

func startTern(t *testing.T, bin string, runArgs ...string) *ternProc {
	t.Helper()
	p := &ternProc{cmd: exec.Command(bin, append([]string{"run"}, runArgs...)...), out: &testutil.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *ternProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v\n%s", sig, err, p.out)
	}
}

// waitLine waits until the output holds want, failing the test if the
// process exits first or after 10 s.
func (p *ternProc) waitLine(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.out.String(), want) {
		select {
		case <-p.exited:
			if strings.Contains(p.out.String(), want) {
				return
			}
			t.Fatalf("exited (%v) without printing %q:\n%s", p.err, want, p.out)
		case <-deadline:
			t.Fatalf("no %q within 10s:\n%s", want, p.out)
		case <-time.After(time.Millisecond):
		}
	}
}

// exitCode waits for the exit (10 s at most) and returns its code.
func (p *ternProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second): // a hang, not a slow machine
		t.Fatalf("still running 30s after the signal:\n%s", p.out)
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("killed by %v:\n%s", ws.Signal(), p.out)
		}
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}
