package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
)

// Every consumer exposes its lag (pending, awaiting acknowledgement,
// redelivered), how long its handler takes and what it dead-lettered.
func TestConsumerMetrics(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	reg := prometheus.NewRegistry()
	m := bus.NewMetrics(reg)
	release := make(chan struct{})
	consume(t, c, bus.ConsumerOptions{Spec: spec("measured"), Concurrency: 1, MaxHeld: 1, Metrics: m,
		LagInterval: 20 * time.Millisecond, Backoff: fastBackoff},
		func(ctx context.Context, msg *bus.Message) error {
			if msg.Env.ID == "bad" {
				return bus.Permanent(errors.New("bad input"))
			}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
	publishDelivery(t, c, "first", 1)
	publishDelivery(t, c, "second", 2)
	publishDelivery(t, c, "bad", 3)
	gauge := func(name string) float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	eventually(t, "the lag of a consumer whose handler waits", func() bool {
		return gauge("telefonistka_consumer_pending_messages") == 2 && gauge("telefonistka_consumer_ack_pending_messages") == 1
	})
	close(release)
	waitPending(t, c, "measured", 0)
	eventually(t, "the dead letter counted", func() bool {
		return testutil.ToFloat64(m.DeadLetters("measured", "permanent")) == 1
	})
	if n, _ := testutil.GatherAndCount(reg, "telefonistka_bus_handler_duration_seconds"); n != 1 {
		t.Fatalf("handler duration series: %d", n)
	}
	eventually(t, "the lag drained", func() bool { return gauge("telefonistka_consumer_pending_messages") == 0 })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 15s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
