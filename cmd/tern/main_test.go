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
		if code != 0 || !strings.Contains(out, "hello, Barbara! (greeting #3)") || !strings.Contains(out, `no such command`) {
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
		cmd := exec.Command(bin, "run", "testdata/forever")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stderr)
		up := false
		for !up && lines.Scan() {
			up = strings.Contains(lines.Text(), `msg=up`)
		}
		if !up {
			t.Fatal("never came up")
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() {
			for lines.Scan() {
			}
			done <- cmd.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatal("still running 10s after SIGTERM")
		}
	})
}
