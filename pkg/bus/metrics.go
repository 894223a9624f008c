package bus

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts handled messages per consumer and outcome. A nil *Metrics
// records nothing.
type Metrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the consumer metrics on reg; call it once per process.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "telefonistka_bus_messages_handled_total",
			Help: "Messages handled by a consumer, by outcome (ack, retry, dead_letter).",
		}, []string{"consumer", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "telefonistka_bus_handler_duration_seconds",
			Help:    "Time spent handling one message.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"consumer"}),
	}
	reg.MustRegister(m.handled, m.duration)
	return m
}

func (m *Metrics) observe(consumer, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.handled.WithLabelValues(consumer, outcome).Inc()
	m.duration.WithLabelValues(consumer).Observe(d.Seconds())
}
