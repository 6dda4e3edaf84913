package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/root"
)

// The cluster end to end: nodes are real tern processes (the built
// binary) and, for the tests that drive them from Go, one node in this
// process ("test", shared by the tests, whose nodes talk to it). One
// node per process: protoactor-go's remote sets grpc's global logger when
// it starts, which races with another node's goroutines under -race.

var (
	binary string // the built tern
	// The free loopback ports of the test cluster, one each for the test
	// node and the data node.
	testAddr, dataAddr string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tern-cluster")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tern")
	if out, err := exec.Command("go", "build", "-o", binary, "../../cmd/tern").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	addrs, err := testutil.LoopbackAddrs(2)
	if err != nil {
		fmt.Fprintf(os.Stderr, "addresses: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	testAddr, dataAddr = addrs[0], addrs[1]
	code := m.Run()
	stopTestNode()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ---------------------------------------------------------------- processes

// proc is a tern process.
type proc struct {
	cmd  *exec.Cmd
	log  *testutil.Buffer
	done chan struct{}
	code int
}

// app copies the app directory src to a new temporary one, with old
// replaced by new in its config.lua (pairs of strings).
func app(t testing.TB, src string, replace ...string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "config.lua" {
			b = []byte(strings.NewReplacer(replace...).Replace(string(b)))
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// start runs `tern run dir`; the test's end stops it (SIGTERM), and its
// log is shown if the test failed.
func start(t testing.TB, dir string, env ...string) *proc {
	t.Helper()
	return startArgs(t, []string{"run", dir}, env...)
}

// startArgs runs tern with args.
func startArgs(t testing.TB, args []string, env ...string) *proc {
	t.Helper()
	dir := args[len(args)-1]
	p := &proc{cmd: exec.Command(binary, args...), log: &testutil.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s:\n%s", dir, p.log.String())
		}
	})
	return p
}

// waitLog waits until the process logged a line matching re, and returns
// the match's groups.
func (p *proc) waitLog(t testing.TB, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	testutil.Eventually(t, 30*time.Second, "a log line matching "+re, func() bool {
		select {
		case <-p.done:
			t.Fatalf("exited (%d) before logging %q:\n%s", p.code, re, p.log.String())
		default:
		}
		m = rx.FindStringSubmatch(p.log.String())
		return m != nil
	})
	return m
}

// wait waits for the process to exit, and returns its code.
func (p *proc) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(30 * time.Second):
		t.Fatalf("still running after 30s:\n%s", p.log.String())
	}
	return -1
}

// kill ends the process at once (SIGKILL): a node that crashes.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	p.wait(t)
}

// stop shuts the process down (SIGTERM), or kills it after 15 s.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Errorf("%s: no exit 15s after SIGTERM: killed", p.cmd.Args)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startData starts the data node of the test cluster and waits until it
// runs and the test node sees it up. At the test's end it stops, and the
// test node sees it down before the next test starts another. flags go to
// tern run, before the app's directory.
func startData(t testing.TB, rt *root.Runtime, flags ...string) *proc {
	t.Helper()
	args := append(append([]string{"run"}, flags...), app(t, "testdata/data", "TEST_ADDR", testAddr, "DATA_ADDR", dataAddr))
	p := startArgs(t, args)
	t.Cleanup(func() {
		p.stop(t)
		testutil.Eventually(t, 20*time.Second, "the test node sees data down", func() bool {
			_, up, _ := rt.System().NodeOf("data")
			return !up
		})
	})
	p.waitLog(t, "data node ready")
	testutil.Eventually(t, 20*time.Second, "the test node sees data up", func() bool {
		_, up, _ := rt.System().NodeOf("data")
		return up
	})
	return p
}

// ---------------------------------------------------------------- test node

var testNode struct {
	once sync.Once
	rt   *root.Runtime
	log  *testutil.Buffer
	err  error
}

// node is the test node, started on first use: a runtime in this process
// whose bootstrap, testdata/test/main.lua, registers "runner". The tests
// skip while the cluster's transport is not built.
func node(t testing.TB) *root.Runtime {
	t.Helper()
	n := &testNode
	n.once.Do(func() {
		n.log = &testutil.Buffer{}
		cfg := root.Config{
			Bootstrap:       "testdata/test/main.lua",
			LogOutput:       n.log,
			LogLevel:        "debug",
			ShutdownTimeout: 5 * time.Second,
			Cluster: &actor.ClusterConfig{
				Name: "clustertest", Node: "test", Listen: testAddr, CallTimeout: 2 * time.Second,
				Members: []actor.ClusterMember{{Node: "test", Address: testAddr}, {Node: "data", Address: dataAddr}},
			},
		}
		if n.rt, n.err = root.New(cfg); n.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		n.err = n.rt.Start(ctx)
	})
	if n.err != nil {
		t.Fatalf("test node: %v\n%s", n.err, n.log.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("test node:\n%s", n.log.String())
		}
	})
	return n.rt
}

func stopTestNode() {
	if rt := testNode.rt; rt != nil && testNode.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
	}
}

// call calls the runner (or target) on the test node.
func call(t testing.TB, rt *root.Runtime, target any, cmd string, args ...any) []any {
	t.Helper()
	res, err := try(rt, target, cmd, args...)
	if err != nil {
		t.Fatalf("call %v %s %v: %v", target, cmd, args, err)
	}
	return res
}

func try(rt *root.Runtime, target any, cmd string, args ...any) ([]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return rt.Call(ctx, target, cmd, args...)
}

// ---------------------------------------------------------------- tests

// Calls both ways, by name@node and by address, a lazy start on the
// remote node, a cluster name found by its bare name, tern.nodes().
func TestCallsAcrossNodes(t *testing.T) {
	rt := node(t)
	startData(t, rt)
	dataNum, _, _ := rt.System().NodeOf("data")

	t.Run("lazy start", func(t *testing.T) {
		// db is declared on data, and not running before its first lookup
		list := call(t, rt, names.NodeAddr(dataNum), "list")[0].([]any)
		if state := stateOf(list, "db"); state != "declared" {
			t.Fatalf("db before its first lookup: %q in %v", state, list)
		}
		if res := call(t, rt, "runner", "call", "db@data", "set", "k", "v"); res[0] != "OK" {
			t.Fatalf("set: %v", res)
		}
		list = call(t, rt, names.NodeAddr(dataNum), "list")[0].([]any)
		if state := stateOf(list, "db"); state != "running" {
			t.Fatalf("db after its first lookup: %q", state)
		}
		// the Go API takes name@node too
		if res := call(t, rt, "db@data", "get", "k"); res[0] != "v" {
			t.Fatalf("get from Go: %v", res)
		}
	})
	t.Run("query and uniqueservice", func(t *testing.T) {
		a := call(t, rt, "runner", "query", "db@data", 5000)[0].(int64)
		u := call(t, rt, "runner", "unique", "seq@data")[0].(int64)
		if actor.Addr(a).Node() != dataNum || actor.Addr(u).Node() != dataNum || a == u {
			t.Fatalf("query %s, unique %s: want two services of node %d", actor.Addr(a), actor.Addr(u), dataNum)
		}
	})
	t.Run("addresses across nodes", func(t *testing.T) {
		res := call(t, rt, "runner", "addresses")
		db, ok := res[0].(int64)
		if !ok || actor.Addr(db).Node() != dataNum || res[1] != "address" || res[2] != "pong from test" {
			t.Fatalf("addresses: %v", res)
		}
		// and from Go, the same address, exact
		if res := call(t, rt, actor.Addr(db), "get", "via"); res[0] != "address" {
			t.Fatalf("get by address: %v", res)
		}
	})
	t.Run("data calls test by name", func(t *testing.T) {
		if res := call(t, rt, "runner", "call", "datamain@data", "ask_runner"); res[0] != "pong from test" {
			t.Fatalf("ask_runner: %v", res)
		}
		// a node that joins later learns the cluster names already there
		testutil.Eventually(t, 10*time.Second, "data finds runner by its bare name", func() bool {
			res, err := try(rt, "runner", "call", "datamain@data", "ask_runner_bare")
			return err == nil && res[0] == "pong from test"
		})
	})
	t.Run("remote query times out", func(t *testing.T) {
		t0 := time.Now()
		_, err := try(rt, "runner", "query", "nobody@data", 300)
		if err == nil || !strings.Contains(err.Error(), "timeout") || time.Since(t0) > 5*time.Second {
			t.Fatalf("query nobody@data after %v: %v", time.Since(t0), err)
		}
	})
	t.Run("cluster name", func(t *testing.T) {
		// data registered "datamain" with {cluster = true}: the bare name
		// falls back to it here, from Lua and from Go
		testutil.Eventually(t, 10*time.Second, "datamain known on test", func() bool {
			_, ok := rt.Names().Lookup("datamain")
			return ok
		})
		if res := call(t, rt, "runner", "call", "datamain", "hello", "lua"); res[0] != "hello lua from data" {
			t.Fatalf("hello: %v", res)
		}
		if res := call(t, rt, "datamain", "hello", "go"); res[0] != "hello go from data" {
			t.Fatalf("hello from Go: %v", res)
		}
		if res := call(t, rt, "runner", "query", "datamain"); actor.Addr(res[0].(int64)).Node() != dataNum {
			t.Fatalf("query datamain: %v", res)
		}
	})
	t.Run("unknown node", func(t *testing.T) {
		_, err := try(rt, "runner", "call", "db@nowhere", "get", "k")
		if err == nil || !strings.Contains(err.Error(), `no such node "nowhere"`) {
			t.Fatalf("lua: %v", err)
		}
		_, err = try(rt, "db@nowhere", "get", "k")
		if err == nil || !strings.Contains(err.Error(), `no such node "nowhere"`) {
			t.Fatalf("go: %v", err)
		}
		// a known node that neither runs nor declares the name
		_, err = try(rt, "runner", "unique", "nobody@data")
		if err == nil || !strings.Contains(err.Error(), `on node "data"`) || !strings.Contains(err.Error(), `no such service: "nobody"`) {
			t.Fatalf("unique nobody@data: %v", err)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		ns := call(t, rt, "runner", "nodes")[0].([]any)
		if len(ns) != 2 {
			t.Fatalf("nodes: %v", ns)
		}
		self, data := ns[0].(map[string]any), ns[1].(map[string]any)
		if self["name"] != "test" || self["self"] != true || data["name"] != "data" || data["up"] != true || data["node"] != int64(dataNum) || data["address"] != dataAddr {
			t.Fatalf("nodes: %v", ns)
		}
		if sent, _ := data["sent"].(int64); sent == 0 {
			t.Fatalf("no traffic counted to data: %v", data)
		}
	})
}

// stateOf is the state of the service called name in a name service's list.
func stateOf(list []any, name string) string {
	for _, e := range list {
		if m := e.(map[string]any); m["name"] == name {
			s, _ := m["state"].(string)
			return s
		}
	}
	return ""
}

// 10,000 sends from one Lua service to one on another node arrive in
// order, the first ones (sent while "seq@data" is still being resolved)
// included.
func TestSendsInOrder(t *testing.T) {
	rt := node(t)
	startData(t, rt)
	const n = 10000
	res := call(t, rt, "runner", "sendseq", "seq@data", n)
	if res[0] != int64(n) || res[1] != int64(0) {
		t.Fatalf("seq saw last %v, %v out of order; want %d, 0", res[0], res[1], n)
	}
}

// The data node dies under load: every call fails within the call
// timeout with an error naming the node, the test node keeps no
// goroutine for it, and once data is back calls by name work again.
func TestDataNodeKilledAndRestarted(t *testing.T) {
	rt := node(t)
	data := startData(t, rt)
	call(t, rt, "runner", "call", "db@data", "set", "k", "before")
	dbAddr := actor.Addr(call(t, rt, "runner", "query", "db@data")[0].(int64))
	base := runtime.NumGoroutine()

	call(t, rt, "runner", "load_start", "db@data", 8)
	stat := func() []any { return call(t, rt, "runner", "load_stat") }
	testutil.Eventually(t, 10*time.Second, "the load runs", func() bool { return stat()[0].(int64) > 200 })
	data.kill(t)
	testutil.Eventually(t, 10*time.Second, "calls fail", func() bool { return stat()[1].(int64) > 50 })
	call(t, rt, "runner", "load_stop")
	testutil.Eventually(t, 10*time.Second, "the load ends", func() bool { return stat()[4].(int64) == 0 })
	s := stat()
	first, _ := s[2].(string)
	slowest := time.Duration(toFloat(s[3]) * float64(time.Millisecond))
	if !strings.Contains(first, `"data"`) && !strings.Contains(first, "down: data") {
		t.Errorf("the error does not name the node: %q", first)
	}
	if slowest > 2*time.Second+time.Second {
		t.Errorf("a failed call took %v, past the call timeout (2s)", slowest)
	}
	t.Logf("answered %v, failed %v, slowest failure %v: %s", s[0], s[1], slowest, first)
	// by Go too, and as fast
	t0 := time.Now()
	if _, err := try(rt, "db@data", "get", "k"); err == nil || !strings.Contains(err.Error(), "data") {
		t.Errorf("go call to the dead node: %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("go call took %v", d)
	}
	testutil.Eventually(t, 20*time.Second, fmt.Sprintf("goroutines back to %d", base), func() bool {
		return runtime.NumGoroutine() <= base
	})
	if ns := rt.Nodes(); len(ns) != 2 || ns[1].Up || ns[1].Failed == 0 {
		t.Errorf("nodes after the kill: %+v", ns)
	}
	// its cluster names went with it; a send to one of its addresses is
	// dropped and counted
	if _, ok := rt.Names().Lookup("datamain"); ok {
		t.Errorf("datamain still known after data died")
	}
	dropped := rt.Nodes()[1].Dropped
	if err := rt.Send(dbAddr, "set", "k", "lost"); err != nil {
		t.Logf("send to the dead node: %v", err)
	}
	testutil.Eventually(t, 5*time.Second, "the send is counted dropped", func() bool { return rt.Nodes()[1].Dropped > dropped })

	// back: calls by name resume, to the new incarnation's db
	startData(t, rt)
	testutil.Eventually(t, 20*time.Second, "calls to db@data resume", func() bool {
		res, err := try(rt, "runner", "call", "db@data", "set", "k", "after")
		return err == nil && res[0] == "OK"
	})
	if res := call(t, rt, "runner", "call", "db@data", "get", "k"); res[0] != "after" {
		t.Fatalf("get after the restart: %v", res)
	}
}

// A data node that hangs (SIGSTOP) answers nothing: calls to it fail
// within the call timeout, naming it; once it runs again (SIGCONT), calls
// work again without restarting anything.
func TestHungNode(t *testing.T) {
	rt := node(t)
	data := startData(t, rt)
	call(t, rt, "runner", "call", "db@data", "set", "k", "v")
	if err := data.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cont := func() { _ = data.cmd.Process.Signal(syscall.SIGCONT) }
	t.Cleanup(cont)
	// the signal is delivered a little later: wait until it is stopped
	stat := fmt.Sprintf("/proc/%d/stat", data.cmd.Process.Pid)
	testutil.Eventually(t, 10*time.Second, "the data node stopped", func() bool {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Skipf("no %s: %v", stat, err)
		}
		i := strings.LastIndexByte(string(b), ')') // "pid (comm) state ..."
		return i > 0 && i+2 < len(b) && b[i+2] == 'T'
	})
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		_, err := try(rt, "runner", "call", "db@data", "get", "k")
		d := time.Since(t0)
		if err == nil || !strings.Contains(err.Error(), "data") {
			t.Fatalf("call %d to the hung node: %v", i, err)
		}
		if d > 2*time.Second+1500*time.Millisecond {
			t.Fatalf("call %d failed after %v, past the call timeout (2s): %v", i, d, err)
		}
		t.Logf("call %d failed after %v: %v", i, d, err)
	}
	cont()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := try(rt, "runner", "call", "db@data", "get", "k")
		if err == nil && res[0] == "v" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the data node runs again but is still down 15s later: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A graceful restart of the data node (SIGHUP): the new process boots
// while the old one still holds the cluster's address, joins once the old
// one has left (tern run sets root.Config.ClusterJoinWait in a process a
// restart starts), and calls by name go to it.
func TestGracefulRestartOfANode(t *testing.T) {
	rt := node(t)
	pidFile := filepath.Join(t.TempDir(), "data.pid")
	p := startData(t, rt, "--pid-file", pidFile)
	call(t, rt, "runner", "call", "db@data", "set", "k", "old")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var pid int
	t.Cleanup(func() { // the new process is not this test's child
		if pid > 0 {
			if proc, err := os.FindProcess(pid); err == nil {
				_ = proc.Signal(syscall.SIGTERM)
			}
			testutil.Eventually(t, 20*time.Second, "the new data process exits", func() bool {
				return syscall.Kill(pid, 0) != nil
			})
		}
	})
	// The old process writes the new one's pid once it is ready (its own
	// Wait ends only with the new one, which inherits its stderr).
	testutil.Eventually(t, 30*time.Second, "the restart ends", func() bool {
		if strings.Contains(p.log.String(), "restart failed") {
			return true
		}
		b, _ := os.ReadFile(pidFile)
		var n int
		fmt.Sscan(string(b), &n)
		if n != 0 && n != p.cmd.Process.Pid {
			pid = n
		}
		return pid != 0
	})
	if strings.Contains(p.log.String(), "restart failed") {
		t.Fatalf("restart failed:\n%s", p.log.String())
	}
	testutil.Eventually(t, 30*time.Second, "calls to db@data reach the new process", func() bool {
		res, err := try(rt, "runner", "call", "db@data", "get", "k")
		return err == nil && res[0] == nil // a new db: empty
	})
	call(t, rt, "runner", "call", "db@data", "set", "k", "new")
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// The example: a client of the gateway node's TCP port gets its answers
// from the db on the data node.
func TestExample(t *testing.T) {
	node(t) // skips while the transport is not built
	addrs := testutil.FreeAddrs(t, 2)
	ports := []string{"127.0.0.1:7701", addrs[0], "127.0.0.1:7702", addrs[1]}
	example(t, app(t, "data", ports...), app(t, "gateway", ports...))
}

// The example again, its nodes finding each other through a real etcd
// (provider = "etcd" in config.lua) instead of a list.
func TestExampleOnEtcd(t *testing.T) {
	node(t)
	endpoint := testutil.StartEtcd(t, "tern-example")
	addrs := testutil.FreeAddrs(t, 2)
	config := func(node, listen string) string {
		return fmt.Sprintf(`return {
	cluster = { name = "example", node = %q, listen = %q, provider = "etcd", etcd = { endpoints = { %q } }, call_timeout = 3000 },
	services = { db = { script = "db.lua" } },
}`, node, listen, endpoint)
	}
	data, gw := app(t, "data"), app(t, "gateway")
	for _, f := range []struct{ dir, node, listen string }{{data, "data", addrs[0]}, {gw, "gateway", addrs[1]}} {
		if err := os.WriteFile(filepath.Join(f.dir, "config.lua"), []byte(config(f.node, f.listen)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	example(t, data, gw)
}

// example runs the example's data and gateway nodes from their app
// directories and talks to the gateway over TCP.
func example(t testing.TB, dataDir, gwDir string) {
	t.Helper()
	data := start(t, dataDir)
	data.waitLog(t, "data node ready")
	gw := start(t, gwDir, "GATEWAY_LISTEN=127.0.0.1:0")
	listen := gw.waitLog(t, `gateway: listening on (127\.0\.0\.1:\d+)`)[1]
	conn, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	ask := func(line string) string {
		t.Helper()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := fmt.Fprintf(conn, "%s\n", line); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return strings.TrimRight(got, "\r\n")
	}
	// the gateway may see data up a little after data is ready
	testutil.Eventually(t, 20*time.Second, "the gateway reaches db@data", func() bool {
		return ask("set k hello world") == "OK"
	})
	for _, c := range [][2]string{{"get k", "hello world"}, {"get nothing", "(nil)"}, {"del k", "1"}, {"get k", "(nil)"}} {
		if got := ask(c[0]); got != c[1] {
			t.Fatalf("%s: got %q, want %q", c[0], got, c[1])
		}
	}
	if got := ask("nodes"); !strings.Contains(got, "gateway #") || !strings.Contains(got, "data #") || strings.Contains(got, "down") {
		t.Fatalf("nodes: %q", got)
	}
	data.kill(t)
	if got := ask("get k"); !strings.HasPrefix(got, "ERR") || !strings.Contains(got, "data") {
		t.Fatalf("get with data down: %q", got)
	}
	gw.stop(t)
	if gw.code != 0 || !strings.Contains(gw.log.String(), "cluster: left") {
		t.Fatalf("gateway exit %d:\n%s", gw.code, gw.log.String())
	}
}

// A mistake in config.lua's cluster table fails the boot (exit 1),
// naming the key.
func TestBadClusterConfig(t *testing.T) {
	p := start(t, "testdata/badcluster")
	if code := p.wait(t); code != root.ExitBoot || !strings.Contains(p.log.String(), `cluster: unknown key string "lisen" (did you mean "listen"?)`) {
		t.Fatalf("exit %d:\n%s", code, p.log.String())
	}
}

// Round trips from a Lua service to a Lua service on the data node: by
// name@node (each through this node's name service, which keeps a
// sender's messages in order) and by address.
func BenchmarkRemoteCall(b *testing.B) {
	rt := node(b)
	startData(b, rt)
	res, err := try(rt, "runner", "query", "db@data")
	if err != nil {
		b.Fatal(err)
	}
	for _, by := range []struct {
		name   string
		target any
	}{{"name", "db@data"}, {"address", res[0]}} {
		b.Run(by.name, func(b *testing.B) {
			if _, err := try(rt, "runner", "calls", by.target, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
