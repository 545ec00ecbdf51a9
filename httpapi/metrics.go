package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of the server.
type Metrics struct {
	Requests         *prometheus.CounterVec
	Latency          *prometheus.HistogramVec
	TokensIssued     *prometheus.CounterVec
	AuthFailures     *prometheus.CounterVec
	RateLimited      *prometheus.CounterVec
	JanitorDeleted   prometheus.Counter
	JanitorLastSweep prometheus.Gauge
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		TokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_tokens_issued_total", Help: "Tokens issued by grant type.",
		}, []string{"grant_type"}),
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_client_auth_failures_total", Help: "Failed client authentications by endpoint.",
		}, []string{"endpoint"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_rate_limited_total", Help: "Requests refused by a rate limit, by the key that was over it.",
		}, []string{"key"}),
		JanitorDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_janitor_deleted_total", Help: "Expired tokens and codes deleted by the janitor.",
		}),
		JanitorLastSweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_janitor_last_sweep_timestamp_seconds", Help: "When the janitor last finished a sweep.",
		}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.TokensIssued, m.AuthFailures, m.RateLimited, m.JanitorDeleted, m.JanitorLastSweep)
	return m
}
