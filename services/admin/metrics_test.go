package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/internal/testutil"
)

func num(t *testing.T, v any) float64 {
	t.Helper()
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	t.Fatalf("not a number: %#v", v)
	return 0
}

func (e *env) call(target any, cmd string, args ...any) []any {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.rt.Call(ctx, target, cmd, args...)
	if err != nil {
		e.t.Fatalf("call %v %s: %v", target, cmd, err)
	}
	return res
}

func (e *env) service(x string) Service {
	e.t.Helper()
	var s Service
	e.want(200, "GET", "/services/"+x, "", &s)
	return s
}

// A scripted workload shows in a service's statistics as it implies:
// messages in and out, errors, the mailbox's high-water mark, tasks and
// busy time; the same in /services and in tern.list() from Lua.
func TestServiceStats(t *testing.T) {
	e := newEnv(t, "")
	var st, sink Service
	e.want(201, "POST", "/services", `{"name":"st","script":"stats"}`, &st)
	e.want(201, "POST", "/services", `{"name":"sink","script":"stats"}`, &sink)
	s0, k0 := e.service("st"), e.service("sink")

	for i := range 10 {
		e.call("st", "ping", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		if _, err := e.rt.Call(ctx, "st", "fail"); err == nil || !strings.Contains(err.Error(), "fails on purpose") {
			t.Fatalf("fail: %v", err)
		}
	}
	e.call("st", "fanout", sink.ID, 5)
	e.call("st", "hold", 4)
	// 20 sends queue up while spin holds the service.
	spun := make(chan error, 1)
	go func() {
		_, err := e.rt.Call(ctx, "st", "spin", 150)
		spun <- err
	}()
	time.Sleep(30 * time.Millisecond)
	for i := range 20 {
		if err := e.rt.Send("st", "ping", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-spun; err != nil {
		t.Fatal(err)
	}

	// in: 10 pings, 3 fails, fanout, hold, spin, 20 sent pings.
	// out: an answer to each call (16), and fanout's 5 sends.
	wantIn, wantOut := s0.Handled+36, s0.Sent+21
	var s Service
	testutil.Eventually(t, 10*time.Second, "st handled its queue", func() bool {
		s = e.service("st")
		// Tasks and the times are published when st's turn ends, which
		// may be just after its last message was taken.
		return s.Handled == wantIn && s.Sent == wantOut && s.Queued == 0 && s.Tasks == 4
	})
	if s.Errors != s0.Errors+3 {
		t.Errorf("errors %d, want %d", s.Errors, s0.Errors+3)
	}
	if s.Peak < 20 {
		t.Errorf("peak %d, want at least 20", s.Peak)
	}
	if s.Busy < 0.1 || s.Busy > 10 {
		t.Errorf("busy %gs after spinning 150 ms", s.Busy)
	}
	if s.Wall < s.Busy/2 {
		t.Errorf("wall %gs, busy %gs: the requests' wall time holds their busy time", s.Wall, s.Busy)
	}
	if s.Memory != 0 || s.Reloads != 0 {
		t.Errorf("memory %d (before any estimate), reloads %d", s.Memory, s.Reloads)
	}
	testutil.Eventually(t, 10*time.Second, "sink got the fanout", func() bool {
		return e.service("sink").Handled == k0.Handled+5
	})

	// The same from Lua: tern.list()'s row. Asking makes one more
	// message in (row) and one out (the call to the name service), and
	// row's task waits for the answer.
	r := e.call("st", "row")
	if len(r) != 12 {
		t.Fatalf("row: %#v", r)
	}
	if r[0] != "st" || !strings.HasSuffix(r[1].(string), "stats.lua") || r[2] != "running" {
		t.Errorf("row: %#v", r[:3])
	}
	for i, want := range []float64{float64(wantIn + 1), float64(wantOut + 1), float64(s.Errors), float64(s.Peak), 5} {
		if got := num(t, r[3+i]); got != want {
			t.Errorf("tern.list() %s: %g, want %g", []string{"handled", "sent", "errors", "peak", "tasks"}[i], got, want)
		}
	}
	if b := num(t, r[8]); b < s.Busy {
		t.Errorf("tern.list() busy %g, /services said %g", b, s.Busy)
	}
	if num(t, r[9]) != 0 || num(t, r[10]) != 0 || num(t, r[11]) != 0 {
		t.Errorf("tern.list() queued, reloads, memory: %v", r[9:])
	}

	// The tasks end once woken.
	e.call("st", "release", 4)
	testutil.Eventually(t, 10*time.Second, "st's tasks ended", func() bool { return e.service("st").Tasks == 0 })

	// A reload counts.
	e.want(200, "POST", "/services/st/reload", "", nil)
	if s := e.service("st"); s.Reloads != 1 {
		t.Errorf("reloads %d after a reload", s.Reloads)
	}

	// ?memory=now has every Lua service estimate its memory first.
	var fresh []Service
	e.want(200, "GET", "/services?memory=now", "", &fresh)
	found := false
	for _, f := range fresh {
		if f.Name == "st" {
			found = true
			if f.Memory < 4<<10 || f.Memory > 1<<20 {
				t.Errorf("st's memory estimate: %d B", f.Memory)
			}
		}
	}
	if !found {
		t.Errorf("st not listed: %+v", fresh)
	}
}

// scrape GETs /metrics with the env's token and parses it.
func (e *env) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	req, err := http.NewRequest("GET", "http://"+e.srv.Addr()+"/metrics", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		e.t.Fatalf("GET /metrics: %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return m.GetUntyped().GetValue()
}

// get is the value of family's series with name, or -1; name "" is the
// anonymous services of stats.lua.
func get(fams map[string]*dto.MetricFamily, family, name string) float64 {
	f := fams[family]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if l := labels(m); l["name"] == name && (name != "" || strings.HasSuffix(l["script"], "stats.lua")) {
			return metricValue(m)
		}
	}
	return -1
}

// /metrics, scraped over a socket with the token, in the Prometheus text
// format: the families are there, counts move with calls, and no label
// carries an address.
func TestMetrics(t *testing.T) {
	e := newEnv(t, "s3cret")
	if code, _ := e.doToken("", "GET", "/metrics", "", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	var st Service
	e.want(201, "POST", "/services", `{"name":"st","script":"stats"}`, &st)
	// Anonymous services of a script share one series.
	for range 3 {
		e.call("st", "ping", 0) // warm up
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.call("st", "spawn", 3)
	before := e.scrape()
	for _, f := range []string{
		"tern_messages_handled_total", "tern_messages_sent_total", "tern_mailbox_depth", "tern_services",
		"tern_reloads_total", "tern_restarts_total", "tern_errors_total", "tern_log_dropped_total",
		"tern_service_instances", "tern_service_messages_handled_total", "tern_service_messages_sent_total",
		"tern_service_errors_total", "tern_service_handling_seconds_total", "tern_service_request_seconds_total", "tern_service_mailbox_depth",
		"tern_service_mailbox_high_water", "tern_service_tasks",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if before[f] == nil {
			t.Errorf("no family %s", f)
		}
	}
	states := map[string]bool{}
	for _, m := range before["tern_services"].GetMetric() {
		states[labels(m)["state"]] = true
	}
	for _, s := range []string{"starting", "running", "shutting down", "stopped"} {
		if !states[s] {
			t.Errorf("tern_services has no state %q", s)
		}
	}
	if get(before, "tern_service_instances", "st") != 1 || get(before, "tern_service_instances", "") != 3 {
		t.Errorf("instances: st %v, anonymous %v", get(before, "tern_service_instances", "st"), get(before, "tern_service_instances", ""))
	}
	for _, m := range before["tern_service_instances"].GetMetric() {
		if l := labels(m); len(l) != 2 || l["script"] == "" {
			t.Errorf("labels %v", l)
		}
	}

	for i := range 10 {
		e.call("st", "ping", i)
	}
	if _, err := e.rt.Call(ctx, "st", "nocmd"); err == nil { // no such command: an error
		t.Fatal("nocmd answered")
	}
	// A service publishes its counts when its turn ends, which may be
	// just after the last answer arrived.
	h0, e0 := get(before, "tern_service_messages_handled_total", "st"), get(before, "tern_service_errors_total", "st")
	var after map[string]*dto.MetricFamily
	testutil.Eventually(t, 10*time.Second, "st's counts after 11 calls", func() bool {
		after = e.scrape()
		return get(after, "tern_service_messages_handled_total", "st")-h0 >= 11 && get(after, "tern_service_errors_total", "st")-e0 >= 1
	})
	h1 := get(after, "tern_service_messages_handled_total", "st")
	if h0 < 0 {
		t.Errorf("st had no handled count before the calls")
	}
	if d := get(after, "tern_service_errors_total", "st") - e0; d != 1 {
		t.Errorf("st errors grew by %g, want 1", d)
	}
	total := func(fams map[string]*dto.MetricFamily, f string) float64 {
		return metricValue(fams[f].GetMetric()[0])
	}
	if total(after, "tern_messages_handled_total")-total(before, "tern_messages_handled_total") < 10 {
		t.Errorf("tern_messages_handled_total did not grow by 10")
	}

	// Stopped services keep their counts in their series, and a name
	// started again counts as a restart.
	stHandled := h1
	if err := e.rt.Kill("st"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "st gone", func() bool {
		_, err := e.rt.Service(st.Addr)
		return err != nil
	})
	e.want(201, "POST", "/services", `{"name":"st","script":"stats"}`, nil)
	e.call("st", "ping", 1)
	// A service publishes its counts when its turn ends, which may be
	// just after the answer arrived.
	var again map[string]*dto.MetricFamily
	testutil.Eventually(t, 10*time.Second, "st's counts after the restart", func() bool {
		again = e.scrape()
		return get(again, "tern_service_messages_handled_total", "st") >= stHandled+1 && total(again, "tern_restarts_total") >= 1
	})
	if r := total(again, "tern_restarts_total"); r != 1 {
		t.Errorf("restarts %g, want 1", r)
	}

	// No label is an address; anonymous services are under name "".
	for name, f := range again {
		for _, m := range f.GetMetric() {
			for k, v := range labels(m) {
				if _, err := actor.ParseAddr(v); err == nil || strings.Contains(v, ":0000") {
					t.Errorf("%s{%s=%q}: an address", name, k, v)
				}
			}
		}
	}
}
