package ingress

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits     *prometheus.CounterVec
	requests *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "telefonistka_webhook_server_webhook_hits_total",
			Help: "Webhook deliveries received, by parsing outcome.",
		}, []string{"parsing"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "telefonistka_ingress_request_duration_seconds",
			Help:    "Time from receiving a webhook to answering it, by status code.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 5},
		}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.hits, m.requests)
	}
	return m
}

func (m *metrics) hit(parsing string) { m.hits.WithLabelValues(parsing).Inc() }
