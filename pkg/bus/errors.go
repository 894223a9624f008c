package bus

import (
	"errors"
	"time"
)

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Permanent marks err as not worth retrying: the message is terminated and
// dead-lettered.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e retryAfterError) Error() string             { return e.err.Error() }
func (e retryAfterError) Unwrap() error             { return e.err }
func (e retryAfterError) RetryAfter() time.Duration { return e.delay }

// RetryAfter asks for redelivery after d (for example GitHub's Retry-After).
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return retryAfterError{err: err, delay: d}
}

// IsPermanent reports whether some error in err's chain implements
// Permanent() bool and returns true. Other packages (the GitHub adapter, for
// one) mark their errors this way without importing bus.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// RetryDelay returns the delay some error in err's chain asks for through
// RetryAfter() time.Duration.
func RetryDelay(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfter(), true
	}
	return 0, false
}

// Backoff is the redelivery delay after the n-th failed delivery (n >= 1):
// 1s, 2s, 4s, ... capped at 5 minutes.
func Backoff(n uint64) time.Duration {
	const base, ceiling = time.Second, 5 * time.Minute
	if n < 1 {
		n = 1
	}
	if n > 20 {
		return ceiling
	}
	d := base << (n - 1)
	if d > ceiling {
		return ceiling
	}
	return d
}
