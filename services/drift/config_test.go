package drift

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
)

func TestLoadConfig(t *testing.T) {
	t.Setenv("HANDLE_SELF_COMMENT", "true")
	t.Setenv("TEMPLATES_PATH", "/etc/telefonistka/templates")
	t.Setenv("PR_METRICS_INTERVAL", "2m")
	t.Setenv("TELEFONISTKA_PR_CHECKERS", "drift, argodiff")
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !c.HandleSelfComment || c.TemplatesPath != "/etc/telefonistka/templates" || c.PRMetricsInterval != 2*time.Minute ||
		!reflect.DeepEqual(c.Checkers, []string{"drift", "argodiff"}) {
		t.Fatalf("config = %+v", c)
	}
	if c.MaxDeliver != 10 || c.FinalStatusTimeout != 30*time.Second || c.BlobConcurrency != 8 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "defaults", cfg: Config{}, ok: true},
		{name: "metrics off", cfg: Config{PRMetricsInterval: 0}, ok: true},
		{name: "negative interval", cfg: Config{PRMetricsInterval: -time.Second}},
		{name: "checkers without drift", cfg: Config{Checkers: []string{"argodiff"}}},
		{name: "an empty checker", cfg: Config{Checkers: []string{"drift", " "}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.withDefaults().Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestWhenAFailedCheckEndsTheRun(t *testing.T) {
	s := &Service{cfg: Config{MaxDeliver: 10}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	live := context.Background()
	boom := errors.New("502 Bad Gateway")
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		delivery uint64
		want     bool
	}{
		{"shutdown: redelivered elsewhere", cancelled, context.Canceled, 1, false},
		{"event timeout", expired, context.DeadlineExceeded, 1, true},
		{"permanent error", live, bus.Permanent(boom), 1, true},
		{"transient error, first delivery", live, boom, 1, false},
		{"transient error, last delivery", live, boom, 10, true},
		{"rate limited, delivery 10", live, bus.RetryAfter(boom, time.Minute), 10, false},
		{"rate limited, delivery 100", live, bus.RetryAfter(boom, time.Minute), 100, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.ends(tc.ctx, &bus.Message{Delivery: tc.delivery, MaxDeliver: 10}, tc.err); got != tc.want {
				t.Fatalf("ends = %v, want %v", got, tc.want)
			}
		})
	}
}
