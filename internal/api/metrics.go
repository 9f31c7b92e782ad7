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
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry, ex *exposure.Engine) (*metrics, error) {
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
