package bus

import (
	"github.com/nats-io/nats.go"
)

// Header names set on every published message.
const (
	HeaderEventType     = "Telefonistka-Event-Type"
	HeaderCorrelationID = "Telefonistka-Correlation-Id"
)

// headerCarrier adapts NATS headers to OpenTelemetry's TextMapCarrier, so W3C
// trace context travels with each message.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string { return nats.Header(c).Get(key) }
func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }
func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
