package ingress

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits     *prometheus.CounterVec
	requests *prometheus.HistogramVec

	spoolEntries, spoolBytes             prometheus.Gauge
	spooled, drained, dropped, spoolFull prometheus.Counter
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
		spoolEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "telefonistka_ingress_spool_entries",
			Help: "Deliveries in the local spool, accepted while JetStream could not store them and not stored yet.",
		}),
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "telefonistka_ingress_spool_bytes",
			Help: "Bytes of the deliveries in the local spool.",
		}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "telefonistka_ingress_spooled_total",
			Help: "Deliveries accepted into the local spool because JetStream could not store them.",
		}),
		drained: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "telefonistka_ingress_spool_drained_total",
			Help: "Spooled deliveries stored on JetStream (or found stored already) and removed from the spool.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "telefonistka_ingress_spool_dropped_total",
			Help: "Spooled deliveries removed without being stored: damaged on disk, or refused by JetStream for a reason waiting does not cure.",
		}),
		spoolFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "telefonistka_ingress_spool_full_total",
			Help: "Deliveries answered 503 because JetStream could not store them and the spool was full.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.hits, m.requests, m.spoolEntries, m.spoolBytes, m.spooled, m.drained, m.dropped, m.spoolFull)
	}
	return m
}

func (m *metrics) hit(parsing string) { m.hits.WithLabelValues(parsing).Inc() }
