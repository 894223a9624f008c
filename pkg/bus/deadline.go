package bus

import (
	"context"
	"time"
)

// DefaultCallTimeout bounds one call to NATS (a publish, a KV read or
// write, an object, consumer information, an acknowledgement) when the
// caller sets no shorter deadline. A NATS node that dies leaves requests
// without an answer; the deadline turns that into an error after seconds,
// so the handler fails and JetStream redelivers its message later, instead
// of the handler waiting out its whole event timeout.
const DefaultCallTimeout = 5 * time.Second

// CallContext returns ctx bounded by d (DefaultCallTimeout when d <= 0)
// for one NATS call. A deadline of ctx that comes sooner is kept.
func CallContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultCallTimeout
	}
	return context.WithTimeout(ctx, d)
}

// TransferTime is the time a call that moves size bytes to or from NATS may
// take on top of DefaultCallTimeout: one second per MiB, so a 25 MiB webhook
// body is not cut off on a busy server while small calls keep their short
// deadline.
func TransferTime(size int64) time.Duration {
	return time.Duration(size>>20) * time.Second
}

// Call runs one NATS call under its own deadline (timeout; 0 means
// DefaultCallTimeout, and a sooner deadline of ctx is kept). While NATS is
// unreachable for a moment (the client reconnecting to another server of
// the cluster, a stream electing a new leader) it tries again after short
// pauses. Each attempt gets a quarter of the deadline, so a request lost
// with a dying server does not use all of it. The call must be safe to
// repeat (publishes carry a message id, KV writes are idempotent or
// compare-and-set).
func Call(ctx context.Context, timeout time.Duration, call func(context.Context) error) error {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	attempt := max(timeout/4, 250*time.Millisecond)
	pause := 50 * time.Millisecond
	for {
		actx, acancel := context.WithTimeout(ctx, attempt)
		err := call(actx)
		acancel()
		if err == nil || !IsUnavailable(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}
