package bump

import (
	"github.com/telefonistka/telefonistka/pkg/bus"
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
func (e *StepError) Permanent() bool { return bus.IsPermanent(e.Err) }

// Invalid marks an error in the request or the content as permanent:
// retrying cannot fix it.
func Invalid(err error) error { return bus.Permanent(err) }

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &StepError{Step: name, Err: err}
}
