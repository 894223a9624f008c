package argocd

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed Argo CD call. Permanent tells whether calling again
// cannot help (the request or the credentials are wrong); the message bus
// retries the others with backoff.
type Error struct {
	Err  error
	Code codes.Code
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent implements the bus's permanent-error convention.
func (e *Error) Permanent() bool {
	switch e.Code {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated,
		codes.FailedPrecondition, codes.Unimplemented, codes.OutOfRange:
		return true
	}
	return false
}

// classify attaches the gRPC code of err.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrUnavailable) {
		return &Error{Err: err, Code: codes.Unavailable}
	}
	code := codes.Unknown
	if s, ok := status.FromError(errors.Unwrap(err)); ok {
		code = s.Code()
	}
	return &Error{Err: err, Code: code}
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == codes.NotFound
}
