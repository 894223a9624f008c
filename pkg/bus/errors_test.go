package bus

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

type foreignPermanent struct{}

func (foreignPermanent) Error() string   { return "404 Not Found" }
func (foreignPermanent) Permanent() bool { return true }

func TestErrorClasses(t *testing.T) {
	plain := errors.New("boom")
	if IsPermanent(plain) {
		t.Error("plain error is permanent")
	}
	if !IsPermanent(fmt.Errorf("reading config: %w", Permanent(plain))) {
		t.Error("wrapped Permanent not recognised")
	}
	if !IsPermanent(fmt.Errorf("getting PR: %w", foreignPermanent{})) {
		t.Error("another package's permanent error not recognised")
	}
	if !errors.Is(Permanent(plain), plain) {
		t.Error("Permanent hides the cause from errors.Is")
	}
	d, ok := RetryDelay(fmt.Errorf("creating tree: %w", RetryAfter(plain, 42*time.Second)))
	if !ok || d != 42*time.Second {
		t.Errorf("RetryDelay = %v, %v", d, ok)
	}
	if _, ok := RetryDelay(plain); ok {
		t.Error("plain error carries a delay")
	}
	if Permanent(nil) != nil || RetryAfter(nil, time.Second) != nil {
		t.Error("wrapping nil must stay nil")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for n, w := range want {
		if got := Backoff(uint64(n)); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, w)
		}
	}
	if got := Backoff(1000); got != 5*time.Minute {
		t.Errorf("Backoff(1000) = %v, want the 5m cap", got)
	}
}

func TestMessageFinal(t *testing.T) {
	plain := errors.New("502 Bad Gateway")
	limited := RetryAfter(errors.New("secondary rate limit"), time.Minute)
	cases := []struct {
		name     string
		delivery uint64
		err      error
		want     bool
	}{
		{"acknowledged", 1, nil, true},
		{"permanent on the first delivery", 1, Permanent(plain), true},
		{"transient before the limit", 9, plain, false},
		{"transient at the limit", 10, plain, true},
		{"rate limited at the limit is retried", 10, limited, false},
		{"rate limited at ten times the limit", 100, limited, true},
	}
	for _, c := range cases {
		m := &Message{Delivery: c.delivery, MaxDeliver: 10}
		if got := m.Final(c.err); got != c.want {
			t.Errorf("%s: Final = %v, want %v", c.name, got, c.want)
		}
	}
}
