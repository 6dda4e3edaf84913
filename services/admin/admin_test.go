package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/roottest"
	"github.com/tern-dev/tern/internal/testutil"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/root"
)

// env is a runtime on a copy of testdata, with the admin API on it.
type env struct {
	t     *testing.T
	rt    *root.Runtime
	srv   *Server
	dir   string
	log   *testutil.Buffer
	token string
}

func newEnv(t *testing.T, token string) *env {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rt, log := roottest.Start(t, root.Config{
		Path:     []string{filepath.Join(dir, "?.lua")},
		Services: map[string]names.Decl{"db": {Script: "db"}},
	})
	srv, err := Start(rt, root.AdminConfig{Listen: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, rt: rt, srv: srv, dir: dir, log: log, token: token}
}

// do sends a request with the env's token and decodes the JSON answer
// into out (when not nil). It returns the status and the raw body.
func (e *env) do(method, path, body string, out any) (int, string) {
	e.t.Helper()
	return e.doToken(e.token, method, path, body, out)
}

func (e *env) doToken(token, method, path, body string, out any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+e.srv.Addr()+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	if !json.Valid(data) {
		e.t.Errorf("%s %s: not JSON: %s", method, path, data)
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res.StatusCode, string(data)
}

// want checks a request's status, and that an error answer holds each
// of the texts.
func (e *env) want(code int, method, path, body string, out any, texts ...string) string {
	e.t.Helper()
	got, data := e.do(method, path, body, out)
	if got != code {
		e.t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, got, code, data)
	}
	if code >= 400 {
		var eb struct{ Error string }
		if err := json.Unmarshal([]byte(data), &eb); err != nil || eb.Error == "" {
			e.t.Fatalf("%s %s: not an error object: %s", method, path, data)
		}
	}
	for _, s := range texts {
		if !strings.Contains(data, s) {
			e.t.Fatalf("%s %s: %q not in %s", method, path, s, data)
		}
	}
	return data
}

func TestEndpoints(t *testing.T) {
	e := newEnv(t, "")

	e.want(200, "GET", "/healthz", "", nil, `"ok"`)

	var w Service
	e.want(201, "POST", "/services", `{"name":"w1","script":"worker","args":["w1"]}`, &w)
	if w.Name != "w1" || w.State != "running" || !strings.HasSuffix(w.Script, "worker.lua") || w.Addr == "" || w.ID == 0 {
		t.Fatalf("created: %+v", w)
	}
	if a, err := actor.ParseAddr(w.Addr); err != nil || uint64(a) != w.ID {
		t.Fatalf("addr %q and id %d disagree: %v", w.Addr, w.ID, err)
	}
	if _, err := time.Parse(time.RFC3339, w.Started); err != nil {
		t.Fatalf("started %q: %v", w.Started, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := e.rt.Call(ctx, "w1", "name"); err != nil || len(res) != 1 || res[0] != "w1" {
		t.Fatalf("call the loaded service: %v %v", res, err)
	}

	// Listing and one service, by name and by address.
	var all []Service
	e.want(200, "GET", "/services", "", &all)
	found := false
	for _, s := range all {
		found = found || s.Addr == w.Addr && s.Name == "w1"
	}
	if !found || len(all) < 3 {
		t.Fatalf("list lacks w1: %+v", all)
	}
	var one Service
	e.want(200, "GET", "/services/w1", "", &one)
	if one.Addr != w.Addr || one.Handled == 0 {
		t.Fatalf("by name: %+v", one)
	}
	e.want(200, "GET", "/services/"+w.Addr, "", &one)
	if one.Name != "w1" {
		t.Fatalf("by address: %+v", one)
	}

	// Args of every JSON kind reach init.
	e.want(201, "POST", "/services", `{"name":"w2","script":"worker.lua","args":["w2", 1, 2.5, true, null, [1,"x"], {"k":{"n":3}}]}`, nil)

	// 404, 409, 400.
	e.want(404, "GET", "/services/nobody", "", nil, "nobody")
	e.want(404, "GET", "/services/:00ffffff", "", nil, ":00ffffff")
	e.want(404, "POST", "/services/nobody/reload", "", nil)
	e.want(404, "POST", "/services/nobody/stop", "", nil)
	e.want(404, "DELETE", "/services/nobody", "", nil)
	e.want(404, "POST", "/services/nobody/start", "", nil)
	e.want(404, "POST", "/services", `{"name":"w3","script":"no_such_script"}`, nil, "not found")
	e.want(404, "GET", "/nothing", "", nil)
	e.want(409, "POST", "/services", `{"name":"w1","script":"worker","args":["again"]}`, nil, "w1", w.Addr)
	for _, body := range []string{
		``, `{`, `[]`, `{"name":"x","script":"worker","bogus":1}`, `{"name":"x","script":"worker"} {}`,
		`{"name":"x"}`, `{"script":"worker"}`, `{"name":"x","script":"/etc/passwd"}`,
		`{"name":"x","script":"../admin/testdata/worker"}`, `{"name":"x","script":"sub/../../x.lua"}`,
		`{"name":"x","script":"..\\x"}`, `{"name":"x","script":"worker","args":[1e999]}`,
		`{"name":":0000000a","script":"worker"}`, `{"name":"x","script":"worker","args":"notalist"}`,
	} {
		e.want(400, "POST", "/services", body, nil)
	}
	e.want(400, "POST", "/services", `{"name":"x","script":"worker","args":["`+strings.Repeat("a", MaxBody)+`"]}`, nil, "over")
	e.want(400, "POST", "/scripts/reload", `{"script":"/abs/worker.lua"}`, nil, "absolute")
	e.want(400, "POST", "/scripts/reload", `{"script":"../worker"}`, nil, "element")
	e.want(400, "POST", "/scripts/reload", `{"scrip":"worker"}`, nil)
	e.want(400, "GET", "/services/:zz", "", nil, "neither an address")
	e.want(400, "POST", "/services/x:1/stop", "", nil)
	if _, ok := e.rt.Names().Lookup("x"); ok {
		t.Fatal("a refused body loaded a service")
	}

	// 422: an init that raises, with the Lua error text.
	e.want(422, "POST", "/services", `{"name":"bad","script":"badinit"}`, nil, "badinit: refusing to start")
	e.want(404, "GET", "/services/bad", "", nil)

	// Reload one, then every service of a script.
	var rl Service
	e.want(200, "POST", "/services/w1/reload", "", &rl)
	if rl.Addr != w.Addr {
		t.Fatalf("reload moved the service: %+v", rl)
	}
	var rs ReloadScriptResult
	e.want(200, "POST", "/scripts/reload", `{"script":"worker"}`, &rs)
	if rs.Reloaded != 2 || len(rs.Failed) != 0 {
		t.Fatalf("reload script: %+v", rs)
	}
	// A reload that fails to compile: 422, the old VM serves on.
	if err := os.WriteFile(filepath.Join(e.dir, "worker.lua"), []byte("return {{{ syntax error"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.want(422, "POST", "/services/w1/reload", "", nil, `\"w1\"`, w.Addr, "syntax error")
	e.want(200, "POST", "/scripts/reload", `{"script":"worker.lua"}`, &rs)
	if rs.Reloaded != 0 || len(rs.Failed) != 2 || rs.Failed[w.Addr] == "" {
		t.Fatalf("reload script of a broken file: %+v", rs)
	}
	if res, err := e.rt.Call(ctx, "w1", "name"); err != nil || res[0] != "w1" {
		t.Fatalf("the old VM after a failed reload: %v %v", res, err)
	}
	// A Go service cannot be reloaded.
	e.want(422, "POST", "/services/:00000001/reload", "", nil)

	// Start a declared service, by name only.
	var db Service
	e.want(200, "POST", "/services/db/start", "", &db)
	if db.Name != "db" || db.State != "running" {
		t.Fatalf("start declared: %+v", db)
	}
	e.want(200, "POST", "/services/db/start", "", &one)
	if one.Addr != db.Addr {
		t.Fatalf("a second start moved it: %+v %+v", one, db)
	}
	e.want(400, "POST", "/services/"+db.Addr+"/start", "", nil)

	// Stop: on_shutdown runs, the service goes.
	e.want(200, "POST", "/services/w2/stop", "", nil)
	// The logger is a service: its lines land a moment later.
	testutil.Eventually(t, 5*time.Second, "on_shutdown w2 in the log", func() bool {
		return strings.Contains(e.log.String(), "on_shutdown w2")
	})
	testutil.Eventually(t, 5*time.Second, "w2 gone", func() bool {
		code, _ := e.do("GET", "/services/w2", "", nil)
		return code == 404
	})

	// The core services stay.
	e.want(500, "POST", "/services/:00000001/stop", "", nil, "core")

	// Delete, then the name is free at once.
	e.want(200, "DELETE", "/services/"+w.Addr, "", nil)
	e.want(404, "GET", "/services/w1", "", nil)
	e.want(400, "DELETE", "/services/db?grace=forever", "", nil, "grace")
	if err := os.WriteFile(filepath.Join(e.dir, "worker.lua"), mustRead(t, "testdata/worker.lua"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.want(201, "POST", "/services", `{"name":"w1","script":"worker","args":["w1 again"]}`, nil)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Unloading a service while a caller waits on it: the caller gets an
// error, the DELETE returns, later calls find no service.
func TestUnloadWithWaitingCaller(t *testing.T) {
	e := newEnv(t, "")
	var w Service
	e.want(201, "POST", "/services", `{"name":"slow","script":"worker","args":["slow"]}`, &w)
	a, _ := actor.ParseAddr(w.Addr)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.rt.Call(ctx, a, "sleep", 60000)
			errs <- err
		}()
	}
	testutil.Eventually(t, 5*time.Second, "the calls under way", func() bool {
		s, err := e.rt.Service(a)
		return err == nil && s.Handled >= 3
	})
	start := time.Now()
	e.want(200, "DELETE", "/services/slow?grace=100ms", "", nil, `"unloaded"`)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			t.Fatal("a waiting caller got an answer from an unloaded service")
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a waiting caller hung: %v", err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("unload took %v", d)
	}
	if _, err := e.rt.Call(ctx, a, "name"); !errors.Is(err, actor.ErrNoService) {
		t.Fatalf("a later call: %v", err)
	}
	if _, ok := e.rt.Names().Lookup("slow"); ok {
		t.Fatal("the name is still held")
	}
	e.want(404, "GET", "/services/slow", "", nil)
	e.want(201, "POST", "/services", `{"name":"slow","script":"worker","args":["slow"]}`, nil)
}

func TestAuth(t *testing.T) {
	e := newEnv(t, "s3cret")
	for _, token := range []string{"", "wrong", "s3cre", "S3CRET", "s3cret2"} {
		code, body := e.doToken(token, "POST", "/services", `{"name":"w","script":"worker"}`, nil)
		if code != 401 || !strings.Contains(body, `"error"`) {
			t.Fatalf("token %q: %d %s", token, code, body)
		}
		if code, _ := e.doToken(token, "POST", "/shutdown", "", nil); code != 401 {
			t.Fatalf("shutdown with token %q: %d", token, code)
		}
	}
	// A token in another scheme is refused too.
	req, _ := http.NewRequest("GET", "http://"+e.srv.Addr()+"/services", nil)
	req.Header.Set("Authorization", "Basic s3cret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("basic auth: %d", res.StatusCode)
	}
	if _, ok := e.rt.Names().Lookup("w"); ok || e.rt.ShuttingDown() {
		t.Fatal("an unauthorized request ran")
	}
	e.want(201, "POST", "/services", `{"name":"w","script":"worker"}`, nil)
	e.want(200, "GET", "/healthz", "", nil)
}

func TestShutdown(t *testing.T) {
	e := newEnv(t, "")
	// A service whose on_shutdown sleeps holds the shutdown open.
	e.want(201, "POST", "/services", `{"name":"hold","script":"slowstop","args":[1000]}`, nil)
	e.want(202, "POST", "/shutdown", "", nil)
	testutil.Eventually(t, 5*time.Second, "healthz 503", func() bool {
		code, _ := e.do("GET", "/healthz", "", nil)
		return code == 503
	})
	e.want(503, "POST", "/services", `{"name":"late","script":"worker"}`, nil)
	select {
	case <-e.rt.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the runtime did not end")
	}
	if code := e.rt.Wait(); code != root.ExitOK {
		t.Fatalf("exit code %d", code)
	}
	e.want(503, "GET", "/healthz", "", nil)
}

func TestRefuseNonLoopback(t *testing.T) {
	e := newEnv(t, "")
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:8700", "example.com:8700"} {
		_, err := Start(e.rt, root.AdminConfig{Listen: addr})
		if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "token") {
			t.Fatalf("%s without a token: %v", addr, err)
		}
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:8700": true, "localhost:1": true, "[::1]:2": true, "127.1.2.3:4": true,
		"0.0.0.0:1": false, ":1": false, "10.0.0.1:1": false, "nonsense": false,
	} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v", addr, got)
		}
	}
	if _, err := Start(e.rt, root.AdminConfig{}); err == nil {
		t.Fatal("no address: no error")
	}
	s, err := Start(e.rt, root.AdminConfig{Listen: "localhost:0", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckScript(t *testing.T) {
	for name, ok := range map[string]bool{
		"worker": true, "worker.lua": true, "sub/x": true, "a.b.c": true, "x..y": true,
		"": false, "/etc/passwd": false, `\x`: false, "..": false, "../x": false,
		"a/../b": false, `a\..\b`: false, "c:/x": false, "x\x00": false,
	} {
		if err := CheckScript(name); (err == nil) != ok {
			t.Errorf("CheckScript(%q): %v", name, err)
		}
	}
}

func TestDecodeCreate(t *testing.T) {
	req, err := DecodeCreate(bytes.NewReader([]byte(`{"name":"n","script":"s","args":[1, 2.5, 9007199254740993, {"a":[1]}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if req.Args[0] != int64(1) || req.Args[1] != 2.5 || req.Args[2] != int64(9007199254740993) {
		t.Fatalf("args: %#v", req.Args)
	}
	if m := req.Args[3].(map[string]any); m["a"].([]any)[0] != int64(1) {
		t.Fatalf("nested: %#v", req.Args[3])
	}
	deep := `{"name":"n","script":"s","args":[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]}`
	if _, err := DecodeCreate(strings.NewReader(deep)); err == nil {
		t.Fatal("args nested 100 deep: no error")
	}
}
