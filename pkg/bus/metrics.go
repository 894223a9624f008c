package bus

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the consumer runtime's metrics, per consumer. A nil *Metrics
// records nothing.
type Metrics struct {
	handled     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	deadLetters *prometheus.CounterVec
	pending     *prometheus.GaugeVec
	ackPending  *prometheus.GaugeVec
	redelivered *prometheus.GaugeVec
	held        *prometheus.GaugeVec
	recreations *prometheus.CounterVec
	kept        *prometheus.GaugeVec
}

// NewMetrics registers the consumer metrics on reg; call it once per process.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"consumer"})
	}
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
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "telefonistka_bus_dead_letters_total",
			Help: "Messages a consumer gave up on and recorded as consumer.failed, by reason (permanent, max_deliveries).",
		}, []string{"consumer", "reason"}),
		pending:     gauge("telefonistka_consumer_pending_messages", "Messages of the stream the consumer has not been delivered yet (its lag)."),
		ackPending:  gauge("telefonistka_consumer_ack_pending_messages", "Messages delivered to the consumer and not yet acknowledged."),
		redelivered: gauge("telefonistka_consumer_redelivered_messages", "Messages of the consumer delivered more than once and not yet acknowledged."),
		held:        gauge("telefonistka_consumer_held_messages", "Messages this process holds for the consumer: running, or waiting behind a message of their ordering key."),
		recreations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "telefonistka_consumer_recreated_total",
			Help: "Times the runtime found its consumer deleted and re-created it.",
		}, []string{"consumer"}),
	}
	m.kept = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "telefonistka_nats_setting_kept",
		Help: "1 for each setting of a stream, KV bucket or object store that differs from what Telefonistka would create and that it leaves as it is (an operator raised it, or it is not Telefonistka's).",
	}, []string{"kind", "name", "setting"})
	reg.MustRegister(m.kept, m.handled, m.duration, m.deadLetters, m.pending, m.ackPending, m.redelivered, m.held, m.recreations)
	return m
}

func (m *Metrics) observe(consumer, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.handled.WithLabelValues(consumer, outcome).Inc()
	m.duration.WithLabelValues(consumer).Observe(d.Seconds())
}

func (m *Metrics) deadLettered(consumer, reason string) {
	if m == nil {
		return
	}
	m.deadLetters.WithLabelValues(consumer, reason).Inc()
}

func (m *Metrics) lag(consumer string, info *jetstream.ConsumerInfo) {
	if m == nil {
		return
	}
	m.pending.WithLabelValues(consumer).Set(float64(info.NumPending))
	m.ackPending.WithLabelValues(consumer).Set(float64(info.NumAckPending))
	m.redelivered.WithLabelValues(consumer).Set(float64(info.NumRedelivered))
}

func (m *Metrics) setHeld(consumer string, n int) {
	if m == nil {
		return
	}
	m.held.WithLabelValues(consumer).Set(float64(n))
}

func (m *Metrics) recreated(consumer string) {
	if m == nil {
		return
	}
	m.recreations.WithLabelValues(consumer).Inc()
}

func (m *Metrics) keptSettings(kind, name string, kept []Kept) {
	if m == nil {
		return
	}
	for _, k := range kept {
		m.kept.WithLabelValues(kind, name, k.Setting).Set(1)
	}
}

// KeptSetting returns the gauge of one kept setting (for tests).
func (m *Metrics) KeptSetting(kind, name, setting string) prometheus.Gauge {
	return m.kept.WithLabelValues(kind, name, setting)
}

// DeadLetters returns the dead-letter counter of one consumer and reason
// (for tests).
func (m *Metrics) DeadLetters(consumer, reason string) prometheus.Counter {
	return m.deadLetters.WithLabelValues(consumer, reason)
}
