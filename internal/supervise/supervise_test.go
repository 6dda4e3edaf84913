package supervise

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/listeners"
	"github.com/tern-dev/tern/internal/restart"
	"github.com/tern-dev/tern/internal/testutil"
)

const envWorker = "TERN_SUPERVISE_TEST_WORKER" // the address a test worker listens on

// TestMain doubles as a worker: with TERN_SUPERVISE_TEST_WORKER set, it
// listens there (through the supervisor), reports ready, accepts and
// closes connections, and exits 0 when asked to drain or on SIGTERM.
func TestMain(m *testing.M) {
	addr, ok := os.LookupEnv(envWorker)
	if !ok {
		os.Exit(m.Run())
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	c, err := restart.Inherit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	w, err := Connect()
	if err != nil || w == nil {
		fmt.Fprintln(os.Stderr, "worker: connect:", w, err)
		os.Exit(2)
	}
	listeners.OnListen(func(l *listeners.Listener) { w.Listen(l) })
	ln, err := listeners.Listen(addr, "test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("hello\n"))
			conn.Close()
		}
	}()
	drained := make(chan struct{})
	w.OnDrain(func() { close(drained) })
	if err := w.Ready(listeners.Names()); err != nil {
		os.Exit(2)
	}
	if _, err := c.Ready(); err != nil {
		os.Exit(2)
	}
	select {
	case <-drained:
	case <-term:
	}
	os.Exit(0)
}

var readyPID = regexp.MustCompile(`msg="supervise: worker ready" pid=(\d+)`)

// The supervisor's loop, in this process (under the race detector), with
// this test binary as its worker: a worker killed is restarted with the
// backoff on the same socket, the restart signal replaces it gracefully,
// SIGTERM ends it all with the worker's code.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs testutil.Buffer
	sigs := make(chan os.Signal, 1)
	code := make(chan int, 1)
	go func() {
		code <- Run(Options{
			Worker:        restart.Options{Binary: os.Args[0], Timeout: 30 * time.Second, Env: []string{envWorker + "=" + addr}},
			RestartSignal: syscall.SIGHUP,
			Log:           slog.New(slog.NewTextHandler(&logs, nil)),
		}, sigs)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	worker := func(n int) int {
		t.Helper()
		var pid int
		testutil.Eventually(t, 40*time.Second, fmt.Sprintf("%d ready workers", n), func() bool {
			m := readyPID.FindAllStringSubmatch(logs.String(), -1)
			if len(m) < n {
				return false
			}
			pid, _ = strconv.Atoi(m[n-1][1])
			return true
		})
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		return pid
	}
	hello := func() {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		b := make([]byte, 6)
		if _, err := c.Read(b); err != nil || string(b) != "hello\n" {
			t.Fatalf("read: %q, %v", b, err)
		}
	}
	w1 := worker(1)
	hello()
	if !strings.Contains(logs.String(), `msg="supervise: holding a listener" listen=tcp:`+addr) {
		t.Fatal("the supervisor holds no listener")
	}
	syscall.Kill(w1, syscall.SIGKILL)
	hello() // queued by the kernel until the next worker accepts
	w2 := worker(2)
	if w2 == w1 || !strings.Contains(logs.String(), fmt.Sprintf(`msg="supervise: the worker crashed" pid=%d status="signal: killed" restart_in=100ms`, w1)) {
		t.Fatalf("no crash of %d logged", w1)
	}
	sigs <- syscall.SIGHUP
	w3 := worker(3)
	testutil.Eventually(t, 40*time.Second, "the old worker's exit", func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf(`msg="supervise: an old worker exited" pid=%d status="exit status 0"`, w2))
	})
	hello()
	sigs <- syscall.SIGTERM
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d", c)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	if !strings.Contains(logs.String(), fmt.Sprintf(`msg="supervise: the worker exited" pid=%d status="exit status 0"`, w3)) {
		t.Fatal("no exit of the last worker logged")
	}
}
