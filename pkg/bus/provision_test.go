package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// A service that starts never resets what an operator raised: a longer
// retention and duplicate window on a stream, a longer TTL on a KV bucket.
// The difference is exposed as a metric.
func TestStartKeepsWhatAnOperatorRaised(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	reg := prometheus.NewRegistry()
	c.Metrics = bus.NewMetrics(reg)
	ctx := context.Background()
	if _, err := bus.EnsureKV(ctx, c, "test_raised", time.Hour); err != nil {
		t.Fatal(err)
	}
	month := 30 * 24 * time.Hour
	for _, name := range []string{events.StreamGitHub, "KV_test_raised"} {
		st, err := c.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := st.CachedInfo().Config
		cfg.MaxAge = month
		if name == events.StreamGitHub {
			cfg.Duplicates = time.Hour
		}
		if _, err := c.JS.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}

	if errs := bus.EnsureStreams(ctx, c, events.Streams(0)); errs != nil {
		t.Fatal(errs)
	}
	if _, err := bus.EnsureKV(ctx, c, "test_raised", time.Hour); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Duration{events.StreamGitHub: month, "KV_test_raised": month} {
		info := streamConfig(t, c, name)
		if info.MaxAge != want {
			t.Errorf("%s: max age %s after a start, want the operator's %s", name, info.MaxAge, want)
		}
	}
	if d := streamConfig(t, c, events.StreamGitHub).Duplicates; d != time.Hour {
		t.Errorf("duplicate window %s after a start, want the operator's 1h", d)
	}
	if v := testutil.ToFloat64(c.Metrics.KeptSetting("stream", events.StreamGitHub, "max_age")); v != 1 {
		t.Errorf("kept max age not exposed: %v", v)
	}
}

func streamConfig(t *testing.T, c *bus.Conn, name string) jetstream.StreamConfig {
	t.Helper()
	st, err := c.JS.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().Config
}

// On a single server, asking for three replicas fails with a message that
// names the setting and how to fix it.
func TestTooManyReplicasIsExplained(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	c.Replicas = 3
	_, err := bus.EnsureKV(context.Background(), c, "test_replicas", time.Hour)
	if err == nil {
		t.Fatal("three replicas on one server accepted")
	}
	for _, want := range []string{"replicas", "TELEFONISTKA_STREAM_REPLICAS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A bucket as Telefonistka created it differs in nothing from what it
// wants: a start reports no kept setting (the metric would otherwise tell
// an operator of a difference nobody made).
func TestBucketAsCreatedKeepsNothing(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	reg := prometheus.NewRegistry()
	c.Metrics = bus.NewMetrics(reg)
	ctx := context.Background()
	for range 2 {
		if _, err := bus.EnsureKV(ctx, c, "test_as_created", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := bus.EnsureBodies(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "telefonistka_nats_setting_kept"); err != nil || n != 0 {
		t.Errorf("%d kept settings reported for buckets as created (%v)", n, err)
	}
}
