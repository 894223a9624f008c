package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// errConnClosed is the cause of the context that closeOnLost cancels.
var errConnClosed = errors.New("NATS connection closed and not re-established")

// cancelOnClosed returns ctx cancelled, with a cause wrapping
// errConnClosed, once nc is closed for good: the client gave up on the
// connection (a protocol error it does not reconnect from), so the process
// cannot recover and must exit non-zero for its supervisor to restart it.
// Closing the connection at shutdown triggers it too, after Run has stopped
// waiting.
func cancelOnClosed(ctx context.Context, nc *nats.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	lost := func(c *nats.Conn) {
		if err := c.LastError(); err != nil {
			cancel(fmt.Errorf("%w (last error: %w)", errConnClosed, err))
			return
		}
		cancel(errConnClosed)
	}
	nc.SetClosedHandler(lost)
	if nc.IsClosed() {
		lost(nc)
	}
	return ctx, func() { cancel(nil) }
}

// connLost returns the error to exit with when ctx ended because the NATS
// connection was lost, else nil.
func connLost(ctx context.Context) error {
	if err := context.Cause(ctx); errors.Is(err, errConnClosed) {
		return err
	}
	return nil
}
