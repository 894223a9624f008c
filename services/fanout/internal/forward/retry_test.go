package forward

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"999999999999", MaxRetryAfter, true},
		{"Sat, 21 Nov 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Sat, 21 Nov 2026 09:00:00 GMT", 0, true},
		{"Sun, 22 Nov 2026 10:00:00 GMT", MaxRetryAfter, true},
	}
	for _, tc := range cases {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffAndRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 40: MaxRetryAfter} {
		if got := Backoff(time.Second, n); got != want {
			t.Errorf("Backoff(1s, %d) = %v, want %v", n, got, want)
		}
	}
	if got := RetryDelay(Outcome{RetryAfter: 9 * time.Second}, time.Second, 1); got != 9*time.Second {
		t.Errorf("Retry-After not honoured: %v", got)
	}
	if got := RetryDelay(Outcome{}, time.Second, 2); got != 2*time.Second {
		t.Errorf("backoff without Retry-After: %v", got)
	}
}
