package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-project/berth/internal/gc"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	denials  *prometheus.CounterVec
	gcPasses *prometheus.CounterVec
	gcBlobs  prometheus.Counter
	gcBytes  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_requests_total", Help: "Data-plane requests by route, method and status.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_http_request_duration_seconds", Help: "Data-plane request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"route"}),
	}
	m.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_network_denied_total", Help: "Requests refused by a registry's network rules, by registry and reason.",
	}, []string{"registry", "reason"})
	m.gcPasses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_gc_passes_total", Help: "Blob garbage collection passes of this replica, by outcome (ok, error).",
	}, []string{"outcome"})
	m.gcBlobs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "berth_gc_blobs_deleted_total", Help: "Blobs this replica's garbage collector deleted.",
	})
	m.gcBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "berth_gc_bytes_reclaimed_total", Help: "Bytes of blob storage this replica's garbage collector reclaimed.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.denials, m.gcPasses, m.gcBlobs, m.gcBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) denied(registry, reason string) {
	m.denials.WithLabelValues(registry, reason).Inc()
}

func (m *metrics) gcPass(st gc.Stats, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.gcPasses.WithLabelValues(outcome).Inc()
	m.gcBlobs.Add(float64(st.Blobs))
	m.gcBytes.Add(float64(st.Bytes))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
