package bump

import (
	"errors"
	"time"
)

// StepError says which step of a bump failed.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help: the error, or one it
// wraps, says so (an invalid input, or GitHub refusing the request).
func (e *StepError) Permanent() bool { return IsPermanent(e.Err) }

// IsPermanent reports whether some error in err's chain implements
// Permanent() bool and returns true.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// RetryDelay returns the delay some error in err's chain asks for.
func RetryDelay(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfter(), true
	}
	return 0, false
}

// invalid marks an error in the request or the content: retrying cannot
// fix it.
type invalid struct{ err error }

func (e invalid) Error() string   { return e.err.Error() }
func (e invalid) Unwrap() error   { return e.err }
func (e invalid) Permanent() bool { return true }

// Invalid marks err as permanent.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalid{err}
}

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &StepError{Step: name, Err: err}
}
