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
