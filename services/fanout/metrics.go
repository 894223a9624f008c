package fanout

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/services/fanout/internal/forward"
	"github.com/telefonistka/telefonistka/services/fanout/internal/targets"
)

// metrics are the fan-out service's Prometheus metrics.
type metrics struct {
	upstream *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	upstream := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "telefonistka",
		Subsystem: "webhook_proxy",
		Name:      "upstream_requests_total",
		Help:      "Push webhooks forwarded to configured endpoints, by answer status (the HTTP code, error when there was no answer, rejected when the URL was refused), method and URL (without user info, query values redacted).",
	}, []string{"status", "method", "url"})
	if reg != nil {
		if err := reg.Register(upstream); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			upstream = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return &metrics{upstream: upstream}, nil
}

// Status labels other than HTTP codes.
const (
	statusError    = "error"
	statusRejected = "rejected"
)

func (m *metrics) attempt(url string, o forward.Outcome) {
	status := statusError
	if o.StatusCode != 0 {
		status = strconv.Itoa(o.StatusCode)
	}
	m.upstream.WithLabelValues(status, "POST", targets.Redact(url)).Inc()
}

func (m *metrics) rejected(url string) {
	m.upstream.WithLabelValues(statusRejected, "POST", targets.Redact(url)).Inc()
}
