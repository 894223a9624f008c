package bus

import (
	"log/slog"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
)

func TestConsumerDefaultsOr(t *testing.T) {
	log := slog.Default()
	spec := events.Consumer(events.ConsumerDrift)
	o := ConsumerDefaults(nil).Or(log)("drift", spec)
	if o.Spec.Durable != events.ConsumerDrift || o.Service != "drift" || o.Log != log {
		t.Fatalf("defaults without a process: %+v", o)
	}
	process := ConsumerDefaults(func(service string, spec events.ConsumerSpec) ConsumerOptions {
		return ConsumerOptions{Spec: spec, Service: service, Concurrency: 7}
	})
	if o := process.Or(log)("drift", spec); o.Concurrency != 7 || o.Log != nil {
		t.Fatalf("the process defaults were not kept: %+v", o)
	}
}
