package admin

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/root"
)

// GET /metrics: the runtime's statistics in the Prometheus text format,
// read from the service listing at scrape time (Collector): nothing is
// counted for Prometheus on the message path. The registry is the
// server's own, never the global one (nor protoactor's metrics provider).
//
// Per-service series are labelled by name and script only, never by
// address, so their number stays bounded however many services come and
// go: a named service has its own series (name, script), and the
// anonymous services of a script share one (name "", script), summed
// (the high-water mark: the largest). Counters go on across the services
// that stopped: what a stopped service counted is kept in its series.

// metricsHandler serves the registry of the collector for rt.
func metricsHandler(rt *root.Runtime) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewCollector(rt),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
}

// Collector is a prometheus.Collector of a runtime's statistics.
type Collector struct {
	rt *root.Runtime

	mu sync.Mutex
	// gone holds the counters of the services that stopped, by series;
	// exited, those counted there still listed (stopping) at the last
	// scrape, not to be counted twice.
	gone   map[series]*counts
	exited map[actor.Addr]bool
	// last is what each counter last reported: a counter never goes
	// back, even if a stopped service's series moved (its name was
	// released before it was counted).
	last map[series]counts
	// restarts: names whose service stopped (when), and the count of
	// services started under a name after its previous holder stopped.
	stoppedAt map[string]int64
	restarts  uint64
}

// series is a per-service label set: {name, script}.
type series struct{ name, script string }

// counts are a series' counters.
type counts struct {
	handled, sent, errors, reloads uint64
	busy, wall                     float64 // seconds
}

func (c *counts) add(s root.Service) {
	c.handled += s.Handled
	c.sent += s.Sent
	c.errors += s.Errors
	c.reloads += s.Reloads
	c.busy += s.Busy.Seconds()
	c.wall += s.Wall.Seconds()
}

// atLeast raises each counter of c to its value in prev.
func (c *counts) atLeast(prev counts) {
	c.handled = max(c.handled, prev.handled)
	c.sent = max(c.sent, prev.sent)
	c.errors = max(c.errors, prev.errors)
	c.reloads = max(c.reloads, prev.reloads)
	c.busy = max(c.busy, prev.busy)
	c.wall = max(c.wall, prev.wall)
}

// NewCollector returns the collector of rt's statistics. It keeps the
// counters of each service that stops from now on.
func NewCollector(rt *root.Runtime) *Collector {
	c := &Collector{rt: rt, gone: map[series]*counts{}, exited: map[actor.Addr]bool{},
		last: map[series]counts{}, stoppedAt: map[string]int64{}}
	rt.System().OnExit(c.exit)
	return c
}

// exit runs on the goroutine of a service that stops, before it leaves
// the listing, with its statistics final.
func (c *Collector) exit(a actor.Addr) {
	s, err := c.rt.Service(a)
	if err != nil {
		return
	}
	k := key(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gone[k]
	if g == nil {
		g = &counts{}
		c.gone[k] = g
	}
	g.add(s)
	c.exited[a] = true
	if s.Name != "" {
		c.stoppedAt[s.Name] = time.Now().UnixNano()
	}
}

func key(s root.Service) series { return series{s.Name, s.Script} }

const ns = "tern_"

var (
	perService = []string{"name", "script"}

	descHandled   = prometheus.NewDesc(ns+"messages_handled_total", "Messages handled by every service (requests, answers, timer firings).", nil, nil)
	descSent      = prometheus.NewDesc(ns+"messages_sent_total", "Messages posted by services.", nil, nil)
	descDepth     = prometheus.NewDesc(ns+"mailbox_depth", "Messages waiting in every mailbox.", nil, nil)
	descServices  = prometheus.NewDesc(ns+"services", "Services by state.", []string{"state"}, nil)
	descReloads   = prometheus.NewDesc(ns+"reloads_total", "In-place reloads of services.", nil, nil)
	descRestarts  = prometheus.NewDesc(ns+"restarts_total", "Services started under a name whose previous service had stopped (as seen at scrapes: a name restarted twice between two scrapes counts once).", nil, nil)
	descErrors    = prometheus.NewDesc(ns+"errors_total", "Requests failed, handler panics and posts refused, of every service.", nil, nil)
	descLogDrops  = prometheus.NewDesc(ns+"log_dropped_total", "Log records dropped: the logger's queue was full, or it stopped first.", nil, nil)
	descSvcCount  = prometheus.NewDesc(ns+"service_instances", "Live services of the series: 0 or 1 for a named one, the count of a script's anonymous ones.", perService, nil)
	descSvcIn     = prometheus.NewDesc(ns+"service_messages_handled_total", "Messages the service handled.", perService, nil)
	descSvcOut    = prometheus.NewDesc(ns+"service_messages_sent_total", "Messages the service posted.", perService, nil)
	descSvcErrors = prometheus.NewDesc(ns+"service_errors_total", "Requests the service failed, panics in its handlers, its posts refused.", perService, nil)
	descSvcBusy   = prometheus.NewDesc(ns+"service_handling_seconds_total", "Time the service spent handling messages (on a 1 ms tick clock; about its CPU time).", perService, nil)
	descSvcWall   = prometheus.NewDesc(ns+"service_request_seconds_total", "Wall time of the requests the service finished, arrival to end, suspended time included (on a 1 ms tick clock).", perService, nil)
	descSvcDepth  = prometheus.NewDesc(ns+"service_mailbox_depth", "Messages waiting in the service's mailbox.", perService, nil)
	descSvcPeak   = prometheus.NewDesc(ns+"service_mailbox_high_water", "The most messages ever waiting in the service's mailbox.", perService, nil)
	descSvcTasks  = prometheus.NewDesc(ns+"service_tasks", "The service's live tasks (Lua coroutines).", perService, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHandled, descSent, descDepth, descServices, descReloads,
		descRestarts, descErrors, descLogDrops, descSvcCount, descSvcIn, descSvcOut, descSvcErrors,
		descSvcBusy, descSvcWall, descSvcDepth, descSvcPeak, descSvcTasks} {
		ch <- d
	}
}

// gauges are a series' gauges.
type gauges struct{ n, depth, peak, tasks int }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.rt.Services()

	byState := map[string]int{}
	for _, st := range []actor.State{actor.Starting, actor.Running, actor.ShuttingDown, actor.Stopped} {
		byState[st.String()] = 0
	}
	cnt := map[series]*counts{}
	for k, g := range c.gone {
		v := *g
		cnt[k] = &v
	}
	gs := map[series]*gauges{}
	listed := map[actor.Addr]bool{}
	depth := 0
	for _, s := range all {
		byState[s.State]++
		depth += s.Queued
		k := key(s)
		g := gs[k]
		if g == nil {
			g = &gauges{}
			gs[k] = g
		}
		g.n++
		g.depth += s.Queued
		g.peak = max(g.peak, s.Peak)
		g.tasks += s.Tasks
		listed[s.Addr] = true
		if c.exited[s.Addr] {
			continue // counted in gone
		}
		if cnt[k] == nil {
			cnt[k] = &counts{}
		}
		cnt[k].add(s)
		if t, ok := c.stoppedAt[s.Name]; ok && s.Name != "" && s.Started.UnixNano() >= t {
			c.restarts++
			delete(c.stoppedAt, s.Name)
		}
	}
	for a := range c.exited {
		if !listed[a] {
			delete(c.exited, a)
		}
	}

	for k, prev := range c.last {
		if cnt[k] == nil { // a series with no service left, nor counts kept
			v := prev
			cnt[k] = &v
		}
	}
	var total counts
	for k, v := range cnt {
		v.atLeast(c.last[k])
		c.last[k] = *v
		total.handled += v.handled
		total.sent += v.sent
		total.errors += v.errors
		total.reloads += v.reloads
		l := []string{k.name, k.script}
		ch <- prometheus.MustNewConstMetric(descSvcIn, prometheus.CounterValue, float64(v.handled), l...)
		ch <- prometheus.MustNewConstMetric(descSvcOut, prometheus.CounterValue, float64(v.sent), l...)
		ch <- prometheus.MustNewConstMetric(descSvcErrors, prometheus.CounterValue, float64(v.errors), l...)
		ch <- prometheus.MustNewConstMetric(descSvcBusy, prometheus.CounterValue, v.busy, l...)
		ch <- prometheus.MustNewConstMetric(descSvcWall, prometheus.CounterValue, v.wall, l...)
		g := gs[k]
		if g == nil {
			g = &gauges{}
		}
		ch <- prometheus.MustNewConstMetric(descSvcCount, prometheus.GaugeValue, float64(g.n), l...)
		ch <- prometheus.MustNewConstMetric(descSvcDepth, prometheus.GaugeValue, float64(g.depth), l...)
		ch <- prometheus.MustNewConstMetric(descSvcPeak, prometheus.GaugeValue, float64(g.peak), l...)
		ch <- prometheus.MustNewConstMetric(descSvcTasks, prometheus.GaugeValue, float64(g.tasks), l...)
	}
	ch <- prometheus.MustNewConstMetric(descHandled, prometheus.CounterValue, float64(total.handled))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(total.sent))
	ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(total.errors))
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(total.reloads))
	ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(c.restarts))
	ch <- prometheus.MustNewConstMetric(descLogDrops, prometheus.CounterValue, float64(c.rt.LogDropped()))
	ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(depth))
	for st, n := range byState {
		ch <- prometheus.MustNewConstMetric(descServices, prometheus.GaugeValue, float64(n), st)
	}
}
