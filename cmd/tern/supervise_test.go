package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/internal/testutil"
)

var workerReady = regexp.MustCompile(`msg="supervise: worker ready" pid=(\d+)`)

// worker waits until the supervisor has logged its n-th ready worker, and
// returns that worker's PID (killed at the test's end).
func (a *upgradeApp) worker(n int) int {
	a.t.Helper()
	out := a.waitLog(`msg="supervise: worker ready"`, n)
	m := workerReady.FindAllStringSubmatch(out, -1)
	if len(m) < n {
		a.t.Fatalf("want %d ready workers in the log, have %d", n, len(m))
	}
	pid, _ := strconv.Atoi(m[n-1][1])
	a.mu.Lock()
	a.pids = append(a.pids, pid)
	a.mu.Unlock()
	return pid
}

// startLoad runs load until the returned stop, which waits for the
// clients (it runs at the test's end too).
func startLoad(t *testing.T, addr string, n *loadCounts) (stop func()) {
	ch := make(chan struct{})
	wg := load(addr, ch, n)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(ch)
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}

// moreReplies waits until the clients have had k more replies.
func moreReplies(t *testing.T, n *loadCounts, k int64, what string) {
	t.Helper()
	base := n.replies.Load()
	testutil.Eventually(t, 40*time.Second, what, func() bool { return n.replies.Load() >= base+k })
}

func checkLoad(t *testing.T, n *loadCounts) {
	t.Helper()
	t.Logf("requests %d, replies %d, dials %d, server closes %d, refused %d, lost %d, corrupted %d",
		n.requests.Load(), n.replies.Load(), n.dials.Load(), n.closes.Load(), n.refused.Load(), n.lost.Load(), n.corrupted.Load())
	if n.refused.Load() != 0 || n.lost.Load() != 0 || n.corrupted.Load() != 0 {
		t.Fatalf("refused %d, lost %d, corrupted %d", n.refused.Load(), n.lost.Load(), n.corrupted.Load())
	}
}

// A worker killed with SIGKILL under load is restarted (after 100 ms,
// then 200 ms: the backoff doubles); the supervisor held the listening
// socket meanwhile, so no client was refused, and the connections queued
// by the kernel were served by the next worker. SIGTERM then stops the
// worker and the supervisor, which exits 0 and removes its PID file.
func TestSuperviseRestartsKilledWorker(t *testing.T) {
	a := newUpgradeApp(t, "--supervise")
	sup := a.first.Process.Pid
	if a.pid() != sup {
		t.Fatalf("the PID file holds %d, not the supervisor's %d", a.pid(), sup)
	}
	workers := []int{a.worker(1)}
	var n loadCounts
	stop := startLoad(t, a.echo, &n)
	for i := 2; i <= 3; i++ {
		moreReplies(t, &n, 300, "replies before the kill")
		old := workers[len(workers)-1]
		a.signal(old, syscall.SIGKILL)
		w := a.worker(i)
		if w == old || w == sup {
			t.Fatalf("worker %d: PID %d (old %d, supervisor %d)", i, w, old, sup)
		}
		waitGone(t, old)
		workers = append(workers, w)
		t.Logf("kill %d: worker %d replaced %d, %d replies so far", i-1, w, old, n.replies.Load())
	}
	moreReplies(t, &n, 300, "replies from the third worker")
	stop()
	checkLoad(t, &n)
	out := a.output()
	for i, backoff := range []string{"100ms", "200ms"} {
		want := fmt.Sprintf(`msg="supervise: the worker crashed" pid=%d status="signal: killed" restart_in=%s`, workers[i], backoff)
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the log", want)
		}
	}
	if a.pid() != sup {
		t.Fatalf("the PID file holds %d, not the supervisor's %d", a.pid(), sup)
	}
	echoOnce(t, a.echo, "after")
	checkWorkerFDs(t, a, sup, workers[2])

	a.signal(sup, syscall.SIGTERM)
	select {
	case <-a.firstDone:
		if a.firstErr != nil {
			t.Fatalf("the supervisor: %v", a.firstErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the supervisor did not exit after SIGTERM")
	}
	waitGone(t, workers[2])
	if _, err := readPIDFile(a.pidFile); err == nil {
		t.Fatal("the PID file is still there")
	}
	if out := a.output(); !strings.Contains(out, fmt.Sprintf(`msg="supervise: the worker exited" pid=%d status="exit status 0"`, workers[2])) {
		t.Fatal("the supervisor did not log the worker's exit")
	}
}

// Graceful restarts under --supervise, by SIGHUP and by tern restart, under
// load: nothing refused or lost, the supervisor keeps the PID, each old
// worker drains and exits 0. POST /restart on the worker's admin API goes
// through the supervisor, and a second one during a restart is refused.
// A worker that ends by itself with code 0 ends the supervisor.
func TestSuperviseGracefulRestart(t *testing.T) {
	a := newUpgradeApp(t, "--supervise")
	sup := a.first.Process.Pid
	workers := []int{a.worker(1)}
	var n loadCounts
	stop := startLoad(t, a.echo, &n)
	moreReplies(t, &n, 300, "replies before the first restart")
	for i := 2; i <= 4; i++ {
		if i == 3 {
			out, code := runTern(t, binary(t), "restart", "--pid-file", a.pidFile)
			if code != 0 || !strings.Contains(out, fmt.Sprintf("sent SIGHUP to process %d", sup)) {
				t.Fatalf("tern restart: exit %d: %s", code, out)
			}
		} else {
			a.signal(sup, syscall.SIGHUP)
		}
		w := a.worker(i)
		old := workers[len(workers)-1]
		a.waitLog(fmt.Sprintf(`msg="supervise: an old worker exited" pid=%d status="exit status 0"`, old), 1)
		waitGone(t, old)
		workers = append(workers, w)
		moreReplies(t, &n, 300, "replies after a restart")
		t.Logf("restart %d: worker %d replaced %d, %d replies so far", i-1, w, old, n.replies.Load())
	}
	stop()
	checkLoad(t, &n)
	if a.pid() != sup || !alive(sup) {
		t.Fatalf("the supervisor %d: alive %v, PID file %d", sup, alive(sup), a.pid())
	}

	a.setMain(2500) // the next worker is slow to get ready
	if code, body := post(t, "http://"+a.admin+"/restart"); code != http.StatusAccepted {
		t.Fatalf("first POST /restart: %d %s", code, body)
	}
	if code, body := post(t, "http://"+a.admin+"/restart"); code != http.StatusConflict || !strings.Contains(body, "already starting") {
		t.Fatalf("second POST /restart: %d %s", code, body)
	}
	last := a.worker(5)
	// Once the old worker is gone (a connection it accepted as it began to
	// drain is closed, as documented), new connections reach the new one.
	a.waitLog(fmt.Sprintf(`msg="supervise: an old worker exited" pid=%d`, workers[len(workers)-1]), 1)
	echoOnce(t, a.echo, "on the fifth worker")

	// A worker that exits 0 by itself (shutdown on the console) is not
	// restarted: the supervisor exits 0.
	c, err := net.Dial("tcp", a.consol)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "shutdown\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.firstDone:
		if a.firstErr != nil {
			t.Fatalf("the supervisor: %v", a.firstErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the supervisor did not exit after its worker's shutdown")
	}
	waitGone(t, last)
	if out := a.output(); !strings.Contains(out, fmt.Sprintf(`msg="supervise: the worker exited 0: exiting" pid=%d`, last)) || strings.Count(out, `msg="supervise: worker ready"`) != 5 {
		t.Fatal("the supervisor did not log the worker's exit, or started another worker")
	}
}

// A first worker that cannot boot ends the supervisor with its code; one
// that ends by itself with code 0 (a finished program) ends it with 0.
func TestSuperviseFirstWorker(t *testing.T) {
	out, code := runTern(t, binary(t), "run", "--supervise", "testdata/boom")
	if code != 1 || !strings.Contains(out, "supervise: the worker failed to boot: exiting") || !strings.Contains(out, "the bootstrap refuses to start") {
		t.Fatalf("boom: exit %d:\n%s", code, out)
	}
	out, code = runTern(t, binary(t), "run", "--supervise", "../../examples/hello")
	if code != 0 || !strings.Contains(out, "hello: Ada, Grace, Barbara") || strings.Contains(out, "crashed") {
		t.Fatalf("hello: exit %d:\n%s", code, out)
	}
}

// seqpacketInodes are the inodes of the unix SOCK_SEQPACKET sockets.
func seqpacketInodes(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		if fs := strings.Fields(l); len(fs) > 6 && fs[4] == "0005" {
			out[fs[6]] = true
		}
	}
	return out
}

// checkWorkerFDs: a ready worker holds, above 2, the three listeners (the
// supervisor's sockets: echo, admin, console), its link to the
// supervisor, connections, and the Go runtime's own; nothing leaked
// (the supervisor's leaked.txt, the readiness pipe).
func checkWorkerFDs(t *testing.T, a *upgradeApp, sup, worker int) {
	t.Helper()
	listening, seqpacket := listeningInodes(t), seqpacketInodes(t)
	supSockets := map[string]bool{}
	for _, l := range fds(t, sup) {
		supSockets[l] = true
	}
	held, links := 0, 0
	for fd, l := range fds(t, worker) {
		inode := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
		switch {
		case fd <= 2:
		case strings.HasPrefix(l, "socket:[") && listening[inode]:
			if !supSockets[l] {
				t.Errorf("fd %d: listener %s is not the supervisor's", fd, l)
			}
			held++
		case strings.HasPrefix(l, "socket:[") && seqpacket[inode]:
			links++
		case strings.HasPrefix(l, "socket:["): // a connection, or the runtime's own
		case strings.HasPrefix(l, "anon_inode:"), strings.HasPrefix(l, "/sys/fs/cgroup/"): // the Go runtime's
		default:
			t.Errorf("fd %d: %s inherited", fd, l)
		}
	}
	if held != 3 || links != 1 {
		t.Errorf("worker %d: %d listeners (want 3) and %d SOCK_SEQPACKET sockets (want 1: the supervisor's link): %v", worker, held, links, fds(t, worker))
	}
}

// Under --supervise, a new worker that is not ready in time is killed; the
// supervisor logs why with its stderr, the old worker serves on, and a
// later restart works.
func TestSuperviseRestartFails(t *testing.T) {
	a := newUpgradeApp(t, "--supervise", "--restart-timeout", "2s")
	sup := a.first.Process.Pid
	first := a.worker(1)
	c, r := echoConn(t, a.echo, "before")
	a.setNeverReady()
	a.signal(sup, syscall.SIGHUP)
	line := a.restartFailed()
	if !strings.Contains(line, "was not ready within 2s") || !strings.Contains(line, "booting slowly") {
		t.Fatalf("the failure line lacks the reason or the worker's stderr: %s", line)
	}
	echoOn(t, c, r, "still here")
	echoOnce(t, a.echo, "new connection")
	if !alive(first) || strings.Count(a.output(), `msg="supervise: worker ready"`) != 1 {
		t.Fatalf("the first worker %d: alive %v, or another became ready", first, alive(first))
	}
	a.setMain(0)
	a.signal(sup, syscall.SIGHUP)
	a.worker(2)
	a.waitLog(fmt.Sprintf(`msg="supervise: an old worker exited" pid=%d status="exit status 0"`, first), 1)
	echoOnce(t, a.echo, "on the new one")
}
