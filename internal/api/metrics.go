package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redthread/redthread/internal/exposure"
	"github.com/redthread/redthread/internal/graph"
)

// graphCollector reports the graph index's size per chain at each scrape.
type graphCollector struct{ gi *graph.Index }

var (
	descGraphTransfers = prometheus.NewDesc("redthread_graph_transfers", "Transfers in the graph index.", []string{"chain"}, nil)
	descGraphDelta     = prometheus.NewDesc("redthread_graph_delta_transfers", "Transfers in the graph index's append-only delta (not yet merged into the CSR base).", []string{"chain"}, nil)
	descGraphBytes     = prometheus.NewDesc("redthread_graph_bytes", "Heap bytes of the graph index.", []string{"chain"}, nil)
	descGraphLast      = prometheus.NewDesc("redthread_graph_last_block", "Newest block with transfers in the graph index.", []string{"chain"}, nil)
	descGraphMerges    = prometheus.NewDesc("redthread_graph_merges_total", "Merges of the delta into a new CSR base.", []string{"chain"}, nil)
	descGraphMergeSecs = prometheus.NewDesc("redthread_graph_last_merge_seconds", "Duration of the newest merge.", []string{"chain"}, nil)
)

func (graphCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGraphTransfers, descGraphDelta, descGraphBytes, descGraphLast, descGraphMerges, descGraphMergeSecs} {
		ch <- d
	}
}

func (g graphCollector) Collect(ch chan<- prometheus.Metric) {
	r := g.gi.Reader()
	st := r.Stats()
	r.Close()
	for _, s := range st {
		c := string(s.Chain)
		ch <- prometheus.MustNewConstMetric(descGraphTransfers, prometheus.GaugeValue, float64(s.Transfers), c)
		ch <- prometheus.MustNewConstMetric(descGraphDelta, prometheus.GaugeValue, float64(s.Delta), c)
		ch <- prometheus.MustNewConstMetric(descGraphBytes, prometheus.GaugeValue, float64(s.Bytes), c)
		ch <- prometheus.MustNewConstMetric(descGraphLast, prometheus.GaugeValue, float64(s.LastBlock), c)
		ch <- prometheus.MustNewConstMetric(descGraphMerges, prometheus.CounterValue, float64(s.Merges), c)
		ch <- prometheus.MustNewConstMetric(descGraphMergeSecs, prometheus.GaugeValue, s.LastMerge.Seconds(), c)
	}
}

// followCollector reports each followed chain's progress at each scrape,
// labelled by chain (serve --follow-rpc, --follow CHAIN=URL).
type followCollector struct{ f Follower }

type followSeries struct {
	d     *prometheus.Desc
	gauge bool
	v     func(FollowStatus) float64
}

var followMetrics = func() []followSeries {
	m := func(name, help string, gauge bool, v func(FollowStatus) uint64) followSeries {
		return followSeries{prometheus.NewDesc(name, help, []string{"chain"}, nil), gauge, func(s FollowStatus) float64 { return float64(v(s)) }}
	}
	return []followSeries{
		m("redthread_follow_node_head", "Newest block the followed node reported at the last poll.", true, func(s FollowStatus) uint64 { return s.NodeHead }),
		m("redthread_follow_indexed_block", "Newest block written to the store and the graph index by the follower.", true, func(s FollowStatus) uint64 { return s.Indexed }),
		m("redthread_follow_lag_blocks", "Node head minus the newest indexed block.", true, func(s FollowStatus) uint64 { return s.Lag }),
		m("redthread_follow_last_poll_timestamp_seconds", "Unix time of the follower's last poll.", true, func(s FollowStatus) uint64 {
			if s.LastPoll.IsZero() {
				return 0
			}
			return uint64(s.LastPoll.Unix())
		}),
		m("redthread_follow_polls_total", "Polls of the followed node.", false, func(s FollowStatus) uint64 { return s.Polls }),
		m("redthread_follow_blocks_total", "Blocks ingested by the follower.", false, func(s FollowStatus) uint64 { return s.Blocks }),
		m("redthread_follow_transfers_total", "Transfers ingested by the follower.", false, func(s FollowStatus) uint64 { return s.Transfers }),
		m("redthread_follow_reorgs_total", "Chain reorganizations the follower rolled back.", false, func(s FollowStatus) uint64 { return s.Reorgs }),
		m("redthread_follow_errors_total", "Polls (and attempts to reach the node) that failed.", false, func(s FollowStatus) uint64 { return s.Errors }),
		m("redthread_follow_up", "1 when the follower has reached its node and its last poll succeeded, else 0.", true, func(s FollowStatus) uint64 { return b2u(s.Up()) }),
		m("redthread_follow_degraded", "1 when the followed chain is degraded (node not reached, refused, last poll failed, no progress for --follow-stall, or too far behind; /healthz says why), else 0.", true,
			func(s FollowStatus) uint64 { return b2u(s.Problem() != "") }),
	}
}()

func (followCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range followMetrics {
		ch <- m.d
	}
}

func (c followCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range followStatuses(c.f) {
		for _, m := range followMetrics {
			t := prometheus.CounterValue
			if m.gauge {
				t = prometheus.GaugeValue
			}
			ch <- prometheus.MustNewConstMetric(m.d, t, m.v(s), s.Chain)
		}
	}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry, ex *exposure.Engine, gi *graph.Index, f Follower) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "redthread_http_requests_total",
			Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "redthread_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}, []string{"route"}),
	}
	cs := []prometheus.Collector{m.requests, m.duration}
	if ex != nil {
		cs = append(cs,
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "redthread_exposure_cache_hits_total",
				Help: "Exposure requests answered from the cache."}, func() float64 { h, _ := ex.CacheStats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "redthread_exposure_cache_misses_total",
				Help: "Exposure requests that were computed."}, func() float64 { _, mi := ex.CacheStats(); return float64(mi) }))
	}
	if gi != nil {
		cs = append(cs, graphCollector{gi})
	}
	if f != nil {
		cs = append(cs, followCollector{f})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

// routeObs records one route's requests; counters per status code are
// resolved once and kept.
type routeObs struct {
	m     *metrics
	route string
	hist  prometheus.Observer
	mu    sync.RWMutex
	codes map[int]prometheus.Counter
}

func (m *metrics) route(pattern string) *routeObs {
	return &routeObs{m: m, route: pattern, hist: m.duration.WithLabelValues(pattern), codes: map[int]prometheus.Counter{}}
}

func (o *routeObs) done(status int, d time.Duration) {
	o.hist.Observe(d.Seconds())
	o.mu.RLock()
	c := o.codes[status]
	o.mu.RUnlock()
	if c == nil {
		c = o.m.requests.WithLabelValues(o.route, strconv.Itoa(status))
		o.mu.Lock()
		o.codes[status] = c
		o.mu.Unlock()
	}
	c.Inc()
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
