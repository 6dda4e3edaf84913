package restart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
)

const envChild = "TERN_RESTART_TEST_CHILD"

// TestMain doubles as the child of the tests: with TERN_RESTART_TEST_CHILD
// set it takes what the parent handed over, and does as the variable says.
func TestMain(m *testing.M) {
	mode, ok := os.LookupEnv(envChild)
	if !ok {
		os.Exit(m.Run())
	}
	if mode == "raw" { // ready, touching no inherited socket (their flags are the parent's doing)
		fd, _ := strconv.Atoi(os.Getenv(EnvReadyFD))
		syscall.Write(fd, []byte{1})
		time.Sleep(time.Minute) // until killed
	}
	c, err := Inherit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	addrs, _ := listeners.Inherit()
	fmt.Fprintf(os.Stderr, "child: inherited %s\n", strings.Join(addrs, " "))
	switch mode {
	case "ready":
		if _, err := c.Ready(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		time.Sleep(time.Minute) // until killed
	case "exit3":
		os.Exit(3)
	case "slow":
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

func nonblocking(t *testing.T, ln net.Listener) bool {
	t.Helper()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	rc.Control(func(fd uintptr) {
		flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	})
	return flags&syscall.O_NONBLOCK != 0
}

func spawn(t *testing.T, mode string, timeout time.Duration) (*Process, error) {
	t.Helper()
	u := New(Options{Binary: os.Args[0], Timeout: timeout, Env: []string{envChild + "=" + mode}, Stderr: io.Discard})
	done, err := u.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if _, err := u.Begin(); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second Begin: %v", err)
	}
	return u.Spawn(context.Background(), nil)
}

// The child gets the registered listeners and reports ready; ours stay
// non-blocking (handing them over must not make them blocking: a Close
// would then wait for the next connection); the child's end is seen.
// (The child here touches no socket: a tern child makes them non-blocking
// again as it takes them, which hid the bug.)
func TestSpawnReady(t *testing.T) {
	ln, err := listeners.Listen("127.0.0.1:0", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, err := spawn(t, "raw", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !nonblocking(t, ln.Listener) {
		t.Error("the listener is blocking after the hand-off")
	}
	closed := make(chan struct{})
	go func() { ln.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits")
	}
	p.Signal(syscall.SIGKILL)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not end")
	}
	if code := ExitCode(p.Err()); code != 128+int(syscall.SIGKILL) {
		t.Fatalf("exit code %d (%v)", code, p.Err())
	}
}

// A child that exits before it is ready, or is not ready in time, is a
// Failure with its reason, its code and its last stderr lines.
func TestSpawnFails(t *testing.T) {
	ln, err := listeners.Listen("127.0.0.1:0", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, c := range []struct {
		mode, reason string
		code         int
	}{
		{"exit3", "exited before it was ready: exit status 3", 3},
		{"slow", "was not ready within 500ms", -1},
	} {
		_, err := spawn(t, c.mode, 500*time.Millisecond)
		var f *Failure
		if !errors.As(err, &f) || !strings.Contains(f.Error(), c.reason) || f.Code != c.code {
			t.Fatalf("%s: %v (%+v)", c.mode, err, f)
		}
		// (A slow child under load may be killed before it says anything.)
		if got := strings.Join(f.Stderr, "\n"); c.mode == "exit3" && !strings.Contains(got, "child: inherited "+ln.Addr().String()) {
			t.Fatalf("%s: the child's stderr: %q", c.mode, got)
		}
	}
}
