package tracker

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	projected *prometheus.HistogramVec
	comments  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		projected: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "telefonistka_tracker_projection_seconds",
			Help:    "Time to project one event into the tracker's records, by event type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}, []string{"type"}),
		comments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "telefonistka_tracker_comments_total",
			Help: "Origin-PR comments the tracker wrote, by action (created, edited, adopted, replaced, failed).",
		}, []string{"action"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.projected, m.comments} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
