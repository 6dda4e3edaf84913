package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/root"
	"go.uber.org/goleak"
)

// startChat boots the example in-process on a free port, and returns its
// runtime and the URL of its page (asked of the watchdog, registered as
// "chat"). The runtime shuts down when the test ends; then no goroutine
// may be left.
func startChat(t *testing.T) (*root.Runtime, string) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // runs last
	t.Setenv("CHAT_LISTEN", "127.0.0.1:0")
	rt, _ := roottest.Start(t, root.Config{Bootstrap: "main.lua"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := rt.Call(ctx, "chat", "url")
	if err != nil {
		t.Fatalf("url: %v", err)
	}
	url, _ := res[0].(string)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url: got %v", res)
	}
	return rt, url
}

// agents counts the running agent services.
func agents(rt *root.Runtime) int {
	n := 0
	for _, s := range rt.Services() {
		if strings.TrimSuffix(s.Script, ".lua") == "agent" || strings.HasSuffix(s.Script, "/agent.lua") {
			n++
		}
	}
	return n
}

// members asks the watchdog how many are in room.
func members(t *testing.T, rt *root.Runtime, room string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := rt.Call(ctx, "chat", "members", room)
	if err != nil {
		t.Fatalf("members %s: %v", room, err)
	}
	n, _ := res[0].(int64)
	return int(n)
}

// waitGone waits (a bounded while) until every agent exited and room is
// empty.
func waitGone(t *testing.T, rt *root.Runtime, room string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, m := agents(rt), members(t, rt, room)
		if a == 0 && m == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the clients left: %d agents still running, %d members in %s", a, m, room)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStaticPage(t *testing.T) {
	_, url := startChat(t)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>tern chat</title>") {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET %s: Content-Type %q, want text/html", url, ct)
	}
}

// wsClient is one plain WebSocket client of the chat.
type wsClient struct {
	t    *testing.T
	name string
	c    *websocket.Conn
}

func dial(t *testing.T, ctx context.Context, url, name string) *wsClient {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"ws", nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	cl := &wsClient{t: t, name: name, c: c}
	cl.expect(ctx, "* welcome: join <room> <nick>") // the agent listens now
	return cl
}

func (cl *wsClient) send(ctx context.Context, line string) {
	cl.t.Helper()
	if err := cl.c.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
		cl.t.Fatalf("%s: send %q: %v", cl.name, line, err)
	}
}

// expect reads lines until want, and fails on anything else.
func (cl *wsClient) expect(ctx context.Context, want string) {
	cl.t.Helper()
	typ, data, err := cl.c.Read(ctx)
	if err != nil {
		cl.t.Fatalf("%s: waiting for %q: %v", cl.name, want, err)
	}
	if typ != websocket.MessageText || string(data) != want {
		cl.t.Fatalf("%s: got %v %q, want text %q", cl.name, typ, data, want)
	}
}

func TestWebSocket(t *testing.T) {
	rt, url := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	alice := dial(t, ctx, url, "alice")
	alice.send(ctx, "hello?")
	alice.expect(ctx, "! join a room first: join <room> <nick>")
	alice.send(ctx, "join lobby alice")
	alice.expect(ctx, "* alice joined lobby")

	bob := dial(t, ctx, url, "bob")
	bob.send(ctx, "join lobby bob")
	bob.expect(ctx, "* bob joined lobby")
	alice.expect(ctx, "* bob joined lobby")

	// Someone in another room hears nothing of the lobby.
	carol := dial(t, ctx, url, "carol")
	carol.send(ctx, "join attic carol")
	carol.expect(ctx, "* carol joined attic")

	alice.send(ctx, "hi bob")
	bob.expect(ctx, "alice: hi bob")
	alice.expect(ctx, "alice: hi bob")
	bob.send(ctx, "hi alice")
	alice.expect(ctx, "bob: hi alice")
	bob.expect(ctx, "bob: hi alice")

	// Lines sent at once are handled in order, the join first.
	carol.send(ctx, "join lobby carol")
	carol.send(ctx, "me too")
	for _, cl := range []*wsClient{alice, bob, carol} {
		cl.expect(ctx, "* carol joined lobby")
		cl.expect(ctx, "carol: me too")
	}
	if n := members(t, rt, "lobby"); n != 3 {
		t.Fatalf("lobby has %d members, want 3", n)
	}
	if n := members(t, rt, "attic"); n != 0 {
		t.Fatalf("attic has %d members, want 0", n)
	}

	if err := alice.c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("alice: close: %v", err)
	}
	bob.expect(ctx, "* alice left lobby")
	carol.expect(ctx, "* alice left lobby")
	bob.c.Close(websocket.StatusNormalClosure, "bye")
	carol.c.Close(websocket.StatusNormalClosure, "bye")
	waitGone(t, rt, "lobby")
}

// browserPath finds Chromium or Chrome.
func browserPath() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser chats between two tabs of a headless Chromium, through the
// page in www, driven over the DevTools protocol.
func TestBrowser(t *testing.T) {
	exe := browserPath()
	if exe == "" {
		t.Skip("no browser: none of /usr/bin/chromium, /usr/bin/chromium-browser, chromium, google-chrome on PATH")
	}
	rt, url := startChat(t)

	// The browser lives at most this long, however the test goes.
	life, endLife := context.WithTimeout(context.Background(), 2*time.Minute)
	profile := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // we may run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// At the end, close the browser (cancelling the allocator waits for
	// its process): then no process of it may be left.
	var pid int
	t.Cleanup(func() {
		procs := descendants(pid)
		cancelBrowser()
		cancelAlloc()
		endLife()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var left []int
			for _, p := range append(procs, using(profile)...) {
				if alive(p) {
					left = append(left, p)
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("chromium processes %v still run after the browser was closed", left)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", exe, err)
	}
	if p := chromedp.FromContext(browserCtx).Browser.Process(); p != nil {
		pid = p.Pid
	}

	// Everything below is bounded by one deadline.
	ctx, cancel := context.WithTimeout(browserCtx, 60*time.Second)
	defer cancel()
	tabA, closeA := chromedp.NewContext(ctx)
	defer closeA()
	tabB, closeB := chromedp.NewContext(ctx)
	defer closeB()

	join := func(tab context.Context, nick string) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.Navigate(url),
			chromedp.WaitEnabled(chromedp.ID("join-btn")), // after the welcome line
			chromedp.SetValue(chromedp.ID("room"), "lobby"),
			chromedp.SetValue(chromedp.ID("nick"), nick),
			chromedp.Click(chromedp.ID("join-btn")),
			waitLine("* "+nick+" joined lobby"),
		)
		if err != nil {
			t.Fatalf("%s joins: %v", nick, err)
		}
	}
	say := func(tab context.Context, nick, text string) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.WaitEnabled(chromedp.ID("send-btn")),
			chromedp.SendKeys(chromedp.ID("text"), text),
			chromedp.Click(chromedp.ID("send-btn")),
			waitLine(nick+": "+text), // our own line comes back too
		)
		if err != nil {
			t.Fatalf("%s says %q: %v", nick, text, err)
		}
	}
	see := func(tab context.Context, who, line string) {
		t.Helper()
		if err := chromedp.Do(tab, waitLine(line)); err != nil {
			log, _ := chromedp.Run(tab, chromedp.TextContent(chromedp.ID("log")))
			t.Fatalf("%s waits for %q: %v; the log:\n%s", who, line, err, log)
		}
	}

	join(tabA, "alice")
	join(tabB, "bob")
	see(tabA, "alice", "* bob joined lobby")

	say(tabA, "alice", "hello from alice")
	see(tabB, "bob", "alice: hello from alice")
	say(tabB, "bob", "hi alice, bob here")
	see(tabA, "alice", "bob: hi alice, bob here")

	if n := members(t, rt, "lobby"); n != 2 || agents(rt) != 2 {
		t.Fatalf("lobby has %d members and %d agents run, want 2 and 2", n, agents(rt))
	}

	// Closing a tab closes its WebSocket: its agent leaves and exits.
	if err := chromedp.Cancel(tabA); err != nil {
		t.Fatalf("close tab A: %v", err)
	}
	see(tabB, "bob", "* alice left lobby")
	if err := chromedp.Cancel(tabB); err != nil {
		t.Fatalf("close tab B: %v", err)
	}
	waitGone(t, rt, "lobby")
}

// waitLine waits until the page's log shows line, polling on a timer
// (requestAnimationFrame does not run in a tab in the background).
func waitLine(line string) chromedp.Action[chromedp.Void] {
	quoted, _ := json.Marshal(line)
	expr := fmt.Sprintf(`Array.from(document.querySelectorAll("#log div")).some(d => d.textContent === %s)`, quoted)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))(ctx, t)
		return chromedp.Void{}, err
	}
}

// descendants lists pid and the processes under it (the zygotes, the
// renderers, the GPU and network processes of a browser), from /proc.
func descendants(pid int) []int {
	if pid == 0 {
		return nil
	}
	parent := map[int]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(p); ok {
			parent[p] = ppid
		}
	}
	out := []int{pid}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// using lists the processes whose command line names dir (a browser's
// children carry its --user-data-dir), from /proc.
func using(dir string) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline"); err == nil && strings.Contains(string(b), dir) {
			out = append(out, p)
		}
	}
	return out
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	if !ok {
		return syscall.Kill(pid, 0) == nil // no /proc: ask the kernel
	}
	return state != "Z" && state != "X"
}

// procStat reads a process's state and parent from /proc/PID/stat.
func procStat(pid int) (state string, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after the command name
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}
