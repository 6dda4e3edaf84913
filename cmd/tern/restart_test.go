package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
)

// upgradeApp is a copy of testdata/restartecho running under `tern run
// --pid-file`, with the echo gate, the admin API and the console on fixed
// ports.
type upgradeApp struct {
	t                   *testing.T
	dir, pidFile, log   string
	echo, admin, consol string
	first               *exec.Cmd
	firstDone           chan struct{}
	firstErr            error
	mu                  sync.Mutex
	pids                []int // every PID seen in the PID file
}

func newUpgradeApp(t *testing.T, extra ...string) *upgradeApp {
	t.Helper()
	dir := t.TempDir()
	a := &upgradeApp{t: t, dir: dir, pidFile: filepath.Join(dir, "tern.pid"), log: filepath.Join(dir, "tern.log")}
	addrs := testutil.FreeAddrs(t, 3)
	a.echo, a.admin, a.consol = addrs[0], addrs[1], addrs[2]
	a.setMain(0)
	a.setConfig(true)
	logf, err := os.OpenFile(a.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := append(append([]string{"run", "--pid-file", a.pidFile}, extra...), dir)
	a.first = exec.Command(binary(t), args...)
	a.first.Env = append(os.Environ(), "ECHO_LISTEN="+a.echo)
	a.first.Stdout, a.first.Stderr = logf, logf
	// A descriptor the first process inherits by accident (as from a
	// leaky parent): no new binary may get it.
	leak, err := os.Create(filepath.Join(dir, "leaked.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	a.first.ExtraFiles = []*os.File{leak}
	if err := a.first.Start(); err != nil {
		t.Fatal(err)
	}
	a.firstDone = make(chan struct{})
	go func() {
		a.firstErr = a.first.Wait()
		close(a.firstDone)
	}()
	a.pids = []int{a.first.Process.Pid}
	t.Cleanup(func() {
		a.first.Process.Kill()
		<-a.firstDone
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, pid := range a.pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("log:\n%s", a.output())
		}
	})
	a.waitLog("echo: listening on", 1)
	a.waitLog("admin API", 1)
	return a
}

func (a *upgradeApp) setMain(slowMS int) {
	a.t.Helper()
	src, err := os.ReadFile("testdata/restartecho/main.lua")
	if err != nil {
		a.t.Fatal(err)
	}
	s := strings.Replace(string(src), "local slow_ms = 0", "local slow_ms = "+strconv.Itoa(slowMS), 1)
	if err := os.WriteFile(filepath.Join(a.dir, "main.lua"), []byte(s), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// setNeverReady makes a new process's bootstrap log a line, then sleep
// for two minutes.
func (a *upgradeApp) setNeverReady() {
	a.t.Helper()
	a.setMain(120000)
	main := filepath.Join(a.dir, "main.lua")
	src, err := os.ReadFile(main)
	if err != nil {
		a.t.Fatal(err)
	}
	slow := strings.Replace(string(src), "tern.sleep(slow_ms)", `tern.log("restartecho: booting slowly") tern.sleep(slow_ms)`, 1)
	if err := os.WriteFile(main, []byte(slow), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

func (a *upgradeApp) setConfig(good bool) {
	a.t.Helper()
	cfg := fmt.Sprintf("return {\n\tshutdown_timeout = 5000,\n\tadmin = { listen = %q },\n\tconsole = { listen = %q },\n}\n", a.admin, a.consol)
	if !good {
		cfg = "return {\n\tadmin = { listen = \n" // a syntax error
	}
	if err := os.WriteFile(filepath.Join(a.dir, "config.lua"), []byte(cfg), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

func (a *upgradeApp) output() string {
	b, _ := os.ReadFile(a.log)
	return string(b)
}

// waitLog waits until the log holds want at least n times.
func (a *upgradeApp) waitLog(want string, n int) string {
	a.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		out := a.output()
		if strings.Count(out, want) >= n {
			return out
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("no %d× %q in the log within 40s", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// restartFailed waits for the log line of a failed restart, and returns it.
func (a *upgradeApp) restartFailed() string {
	out := a.waitLog("restart failed: serving on", 1)
	line := out[strings.Index(out, "restart failed: serving on"):]
	return line[:strings.IndexByte(line, '\n')]
}

func (a *upgradeApp) pid() int {
	a.t.Helper()
	pid, err := readPIDFile(a.pidFile)
	if err != nil {
		a.t.Fatal(err)
	}
	return pid
}

// waitNewPID waits until the PID file holds a PID other than old.
func (a *upgradeApp) waitNewPID(old int) int {
	a.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if pid, err := readPIDFile(a.pidFile); err == nil && pid != old {
			a.mu.Lock()
			a.pids = append(a.pids, pid)
			a.mu.Unlock()
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.t.Fatalf("the PID file still holds %d after 40s", old)
	return 0
}

func (a *upgradeApp) signal(pid int, sig syscall.Signal) {
	a.t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		a.t.Fatalf("signal %d: %v", pid, err)
	}
}

// alive says whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echoOnce dials addr, sends a line and checks the echo.
func echoOnce(t *testing.T, addr, line string) {
	t.Helper()
	c, _ := echoConn(t, addr, line)
	c.Close()
}

// echoConn dials addr, sees line echoed, and returns the connection
// (closed at the test's end) and its reader.
func echoConn(t *testing.T, addr, line string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	echoOn(t, c, r, line)
	return c, r
}

func echoOn(t *testing.T, c net.Conn, r *bufio.Reader, line string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := r.ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("echo of %q: %q, %v", line, got, err)
	}
}

// loadCounts are what the clients saw.
type loadCounts struct {
	requests, replies, refused, lost, corrupted, closes, dials atomic.Int64
}

// load runs 100 long connections, each sending one line after the reply
// to the previous one, and a stream of short connections, until stop.
// A connection closed by the server (EOF or reset) is reconnected: the
// request in flight then has no reply, which is fine; a reply missing on
// a connection not closed (5 s) is lost.
func load(addr string, stop <-chan struct{}, n *loadCounts) *sync.WaitGroup {
	var wg sync.WaitGroup
	dial := func() (net.Conn, bool) {
		n.dials.Add(1)
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			n.refused.Add(1)
			return nil, false
		}
		return c, true
	}
	// one exchange: ok, or closed (the server closed), or failed (counted)
	exchange := func(c net.Conn, r *bufio.Reader, msg string) (closed bool) {
		n.requests.Add(1)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, msg+"\n"); err != nil {
			n.closes.Add(1)
			return true
		}
		got, err := r.ReadString('\n')
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				n.lost.Add(1)
			} else {
				n.closes.Add(1)
			}
			return true
		}
		if got != msg+"\n" {
			n.corrupted.Add(1)
			return true
		}
		n.replies.Add(1)
		return false
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for i := range 100 {
		wg.Go(func() {
			var c net.Conn
			var r *bufio.Reader
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for seq := 0; !stopped(); seq++ {
				if c == nil {
					var ok bool
					if c, ok = dial(); !ok {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					r = bufio.NewReader(c)
				}
				if exchange(c, r, fmt.Sprintf("long-%d-%d-%s", i, seq, strings.Repeat("x", seq%50))) {
					c.Close()
					c = nil
				}
			}
		})
	}
	for i := range 4 {
		wg.Go(func() {
			for seq := 0; !stopped(); seq++ {
				c, ok := dial()
				if !ok {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				exchange(c, bufio.NewReader(c), fmt.Sprintf("short-%d-%d", i, seq))
				c.Close()
			}
		})
	}
	return &wg
}

// Five graceful restarts by SIGHUP under load: no connection refused, no
// reply lost or corrupted; the PID file follows; the first process exits 0.
func TestRestartUnderLoad(t *testing.T) {
	a := newUpgradeApp(t)
	var n loadCounts
	stop := make(chan struct{})
	wg := load(a.echo, stop, &n)
	time.Sleep(300 * time.Millisecond)
	pid := a.pid()
	old := []int{pid}
	for i := range 5 {
		a.signal(pid, syscall.SIGHUP)
		pid = a.waitNewPID(pid)
		old = append(old, pid)
		t.Logf("restart %d: new PID %d, %d replies so far", i+1, pid, n.replies.Load())
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("requests %d, replies %d, dials %d, server closes %d, refused %d, lost %d, corrupted %d",
		n.requests.Load(), n.replies.Load(), n.dials.Load(), n.closes.Load(), n.refused.Load(), n.lost.Load(), n.corrupted.Load())
	if n.refused.Load() != 0 || n.lost.Load() != 0 || n.corrupted.Load() != 0 {
		t.Fatalf("refused %d, lost %d, corrupted %d", n.refused.Load(), n.lost.Load(), n.corrupted.Load())
	}
	if n.replies.Load() < 1000 {
		t.Fatalf("only %d replies", n.replies.Load())
	}
	select {
	case <-a.firstDone:
		if a.firstErr != nil {
			t.Fatalf("the first process: %v", a.firstErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the first process did not exit")
	}
	for _, p := range old[1:5] {
		waitGone(t, p)
	}
	if !alive(pid) || a.pid() != pid {
		t.Fatalf("the last process %d: alive %v, PID file %d", pid, alive(pid), a.pid())
	}
	echoOnce(t, a.echo, "after")
	if out := a.output(); strings.Count(out, "restart: the new process is ready: shutting down") != 5 {
		t.Fatalf("want 5 hand-overs in the log")
	}
}

// A new binary that fails to boot (config.lua broken) is killed, its
// stderr is logged, and the old process serves on; a later restart works.
func TestRestartChildFails(t *testing.T) {
	a := newUpgradeApp(t, "--restart-timeout", "10s")
	c, r := echoConn(t, a.echo, "before")
	pid := a.pid()
	a.setConfig(false)
	a.signal(pid, syscall.SIGHUP)
	line := a.restartFailed()
	if !strings.Contains(line, "exited before it was ready") || !strings.Contains(line, "config.lua") {
		t.Fatalf("the failure line lacks the reason or the child's stderr: %s", line)
	}
	echoOn(t, c, r, "still here")
	echoOnce(t, a.echo, "new connection")
	if a.pid() != pid {
		t.Fatalf("the PID file changed: %d", a.pid())
	}
	// Fixed, it restarts.
	a.setConfig(true)
	a.signal(pid, syscall.SIGHUP)
	a.waitNewPID(pid)
	// Once the old process is gone (a connection it accepted as it began
	// to drain is closed, as documented), new connections reach the new one.
	<-a.firstDone
	if a.firstErr != nil {
		t.Fatalf("the first process: %v", a.firstErr)
	}
	echoOnce(t, a.echo, "on the new one")
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// childOf finds the child process of pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			if fs := strings.Fields(string(b)); len(fs) > 0 {
				c, _ := strconv.Atoi(fs[0])
				return c
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d has no child", pid)
	return 0
}

// listeningInodes are the socket inodes in LISTEN state.
func listeningInodes(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) > 9 && fs[3] == "0A" {
				out[fs[9]] = true
			}
		}
	}
	return out
}

// fds maps a process's descriptors to what they are.
func fds(t *testing.T, pid int) map[int]string {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err == nil {
			out[fd] = l
		}
	}
	return out
}

// A second restart during one is refused (409); the new process, slow to
// boot, inherited no descriptor but the listeners, the readiness pipe and
// the parent's stderr; the PID file ends with its PID.
func TestRestartRefusedAndDescriptors(t *testing.T) {
	a := newUpgradeApp(t)
	// A connection the old process holds: it must not leak to the child.
	echoConn(t, a.echo, "held")
	pid := a.pid()
	a.setMain(2500)
	if code, body := post(t, "http://"+a.admin+"/restart"); code != http.StatusAccepted || !strings.Contains(strings.ReplaceAll(body, " ", ""), `"restarting":true`) {
		t.Fatalf("first POST /restart: %d %s", code, body)
	}
	if code, body := post(t, "http://"+a.admin+"/restart"); code != http.StatusConflict || !strings.Contains(body, "already under way") {
		t.Fatalf("second POST /restart: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond) // it boots (the bootstrap sleeps 2.5 s)
	child := childOf(t, pid)
	for range 20 { // a PID read as the child forks may be stale: look again
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/fd", child)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
		child = childOf(t, pid)
	}
	listening := listeningInodes(t)
	parentSockets := map[string]bool{}
	for _, l := range fds(t, pid) {
		if strings.HasPrefix(l, "socket:[") {
			parentSockets[l] = true
		}
	}
	sockets, pipes := 0, 0
	for fd, l := range fds(t, child) {
		switch {
		case fd <= 2:
		case strings.HasPrefix(l, "socket:[") && !parentSockets[l]:
			// Not the parent's: the child opened it (go-systemd's journal
			// socket, which a dependency opens at init, in every process).
		case strings.HasPrefix(l, "socket:["):
			inode := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
			if !listening[inode] {
				t.Errorf("fd %d: %s, the parent's, is not a listener", fd, l)
			}
			sockets++
		case strings.HasPrefix(l, "pipe:["):
			pipes++ // the readiness pipe
		case strings.HasPrefix(l, "anon_inode:"): // the Go runtime's own (epoll, eventfd)
		case strings.HasPrefix(l, "/sys/fs/cgroup/"): // the Go runtime's own (GOMAXPROCS)
		case l == a.log: // the parent's stderr, ours again once ready
		default:
			t.Errorf("fd %d: %s inherited", fd, l)
		}
	}
	if sockets != 3 || pipes != 1 {
		t.Errorf("the child has %d listener sockets (want 3: echo, admin, console) and %d pipes (want 1)", sockets, pipes)
	}
	t.Logf("child %d descriptors: %v", child, fds(t, child))
	if got := a.waitNewPID(pid); got != child {
		t.Fatalf("the PID file holds %d, the child is %d", got, child)
	}
	<-a.firstDone
	if a.firstErr != nil {
		t.Fatalf("the old process: %v", a.firstErr)
	}
	if !alive(child) {
		t.Fatal("the new process is not running")
	}
	// Ready, it holds only 0, 1, 2 and the listeners (and its own).
	for fd, l := range fds(t, child) {
		if fd > 2 && (strings.HasPrefix(l, "pipe:[") || l == a.log) {
			t.Errorf("after ready: fd %d: %s", fd, l)
		}
	}
	echoOnce(t, a.echo, "new")
	if code, _ := post(t, "http://"+a.admin+"/restart"); code != http.StatusAccepted {
		t.Fatalf("restart on the new process: %d", code)
	}
	a.waitNewPID(child)
}

// tern restart --pid-file F signals the process in F, and says clearly
// what is wrong with F.
func TestRestartCommand(t *testing.T) {
	a := newUpgradeApp(t)
	pid := a.pid()
	out, code := runTern(t, binary(t), "restart", "--pid-file", a.pidFile)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("sent SIGHUP to process %d", pid)) {
		t.Fatalf("exit %d: %s", code, out)
	}
	a.waitNewPID(pid)
	dir := t.TempDir()
	garbled := filepath.Join(dir, "garbled.pid")
	os.WriteFile(garbled, []byte("twelve\n"), 0o644)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadFile := filepath.Join(dir, "dead.pid")
	os.WriteFile(deadFile, []byte(strconv.Itoa(dead.Process.Pid)), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"restart", "--pid-file", filepath.Join(dir, "none.pid")}, 1, "no such file"},
		{[]string{"restart", "--pid-file", garbled}, 1, `holds no PID: "twelve"`},
		{[]string{"restart", "--pid-file", deadFile}, 1, "is not running"},
		{[]string{"restart"}, 64, "needs --pid-file"},
		{[]string{"restart", "--pid-file", deadFile, "--signal", "KILL"}, 64, "not HUP, USR1 or USR2"},
	} {
		out, code := runTern(t, binary(t), c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d, want %d with %q:\n%s", c.args, code, c.code, c.want, out)
		}
	}
}

// A new binary that never gets ready (its bootstrap sleeps past
// --restart-timeout) is killed; the old process logs why, with the new
// one's last stderr lines, and serves on; a later restart works.
func TestRestartChildTimesOut(t *testing.T) {
	a := newUpgradeApp(t, "--restart-timeout", "2s")
	c, r := echoConn(t, a.echo, "before")
	pid := a.pid()
	a.setNeverReady()
	a.signal(pid, syscall.SIGHUP)
	line := a.restartFailed()
	if !strings.Contains(line, "was not ready within 2s") || !strings.Contains(line, "booting slowly") {
		t.Fatalf("the failure line lacks the reason or the child's stderr: %s", line)
	}
	// The child was killed and reaped.
	testutil.Eventually(t, 10*time.Second, "the slow child gone", func() bool {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, f := range tasks {
			if b, _ := os.ReadFile(f); len(strings.Fields(string(b))) > 0 {
				return false
			}
		}
		return true
	})
	echoOn(t, c, r, "still here")
	echoOnce(t, a.echo, "new connection")
	if a.pid() != pid {
		t.Fatalf("the PID file changed: %d", a.pid())
	}
	a.setMain(0)
	a.signal(pid, syscall.SIGHUP)
	a.waitNewPID(pid)
	// Once the old process is gone (a connection it accepted as it began
	// to drain is closed, as documented), new connections reach the new one.
	<-a.firstDone
	if a.firstErr != nil {
		t.Fatalf("the first process: %v", a.firstErr)
	}
	echoOnce(t, a.echo, "on the new one")
}
