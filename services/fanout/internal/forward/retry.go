package forward

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the delay an endpoint's Retry-After can ask for.
const MaxRetryAfter = 10 * time.Minute

// ParseRetryAfter reads a Retry-After value, in seconds or as an HTTP date,
// capped at MaxRetryAfter. A date in the past gives 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, MaxRetryAfter), true
}

// Backoff is the delay before attempt n+1 after attempt n (n >= 1) failed:
// base, 2*base, 4*base... capped at MaxRetryAfter.
func Backoff(base time.Duration, n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n; i++ {
		d *= 2
		if d >= MaxRetryAfter {
			return MaxRetryAfter
		}
	}
	return d
}

// RetryDelay is the delay before retrying after attempt n produced o: the
// endpoint's Retry-After when it sent one, else Backoff.
func RetryDelay(o Outcome, base time.Duration, n int) time.Duration {
	if o.RetryAfter > 0 {
		return o.RetryAfter
	}
	return Backoff(base, n)
}
