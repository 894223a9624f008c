package app

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/obs"
)

// conflictingDrift is a NATS server whose DRIFT stream an operator created
// as a work queue, which Telefonistka cannot use and will not change.
func conflictingDrift(t *testing.T) Config {
	t.Helper()
	srv := bustest.Start(t)
	c := srv.Connect()
	ctx := context.Background()
	if err := c.JS.DeleteStream(ctx, events.StreamDrift); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JS.CreateStream(ctx, jetstream.StreamConfig{Name: events.StreamDrift, Subjects: []string{"drift.>"},
		Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	return Config{LogConfig: obs.LogConfig{Level: "info", Format: "text"}, ListenAddress: "127.0.0.1:0", NATSURL: srv.URL(),
		DataDir: t.TempDir(), DuplicateWindow: time.Minute, EventTimeout: time.Minute, ShutdownTimeout: time.Second,
		NATSTimeout: 5 * time.Second, StreamReplicas: 1}
}

func stub(name string, built *atomic.Int32) Builder {
	return Builder{Name: name, New: func(context.Context, *Env) (Service, error) { built.Add(1); return idle{}, nil }}
}

// A conflict in one stream fails only the services that need it: here drift
// does not start and ingress runs.
func TestStreamConflictFailsOnlyTheServicesThatNeedIt(t *testing.T) {
	cfg := conflictingDrift(t)
	var ingressBuilt, driftBuilt atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *Env, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, RunOptions{LogOutput: io.Discard, Started: func(env *Env) { started <- env }},
			stub("ingress", &ingressBuilt), stub("drift", &driftBuilt))
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run failed although ingress does not need DRIFT: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("Run did not start")
	}
	if ingressBuilt.Load() != 1 || driftBuilt.Load() != 0 {
		t.Fatalf("ingress built %d times, drift %d times; want ingress only", ingressBuilt.Load(), driftBuilt.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Alone in its process, a service whose stream conflicts exits with an
// error naming the stream, the setting and the fix.
func TestStreamConflictNamesStreamSettingAndFix(t *testing.T) {
	cfg := conflictingDrift(t)
	var built atomic.Int32
	err := Run(context.Background(), cfg, RunOptions{LogOutput: io.Discard}, stub("drift", &built))
	if err == nil {
		t.Fatal("drift started on a work-queue DRIFT stream")
	}
	for _, want := range []string{"drift", "stream DRIFT", "retention", "nats stream rm DRIFT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
