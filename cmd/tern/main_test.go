package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary builds the real tern binary once for the tests here.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tern")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func runTern(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
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
	t.Run("bad command", func(t *testing.T) {
		out, code := runTern(t, bin, "frobnicate")
		if code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("sigterm", func(t *testing.T) {
		cmd, lines := startTern(t, bin, "testdata/forever")
		waitLine(t, lines, "msg=up")
		cmd.Process.Signal(syscall.SIGTERM)
		if code := exitCode(t, cmd, lines); code != 0 {
			t.Fatalf("exit %d after SIGTERM", code)
		}
	})
	t.Run("second signal", func(t *testing.T) {
		cmd, lines := startTern(t, bin, "testdata/stubborn")
		waitLine(t, lines, "msg=up")
		cmd.Process.Signal(syscall.SIGTERM)
		waitLine(t, lines, `msg="cleaning up"`)
		cmd.Process.Signal(syscall.SIGINT)
		if code := exitCode(t, cmd, lines); code != 3 {
			t.Fatalf("exit %d after a second signal, want 3", code)
		}
	})
}

func startTern(t *testing.T, bin, dir string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(bin, "run", dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, bufio.NewScanner(stderr)
}

func waitLine(t *testing.T, lines *bufio.Scanner, want string) {
	t.Helper()
	for lines.Scan() {
		if strings.Contains(lines.Text(), want) {
			return
		}
	}
	t.Fatalf("output ended without %q", want)
}

func exitCode(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner) int {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for lines.Scan() {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after the signal")
	}
	return -1
}
