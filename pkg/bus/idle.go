package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Idle reports whether every consumer of every stream has nothing pending
// and nothing unacknowledged.
func Idle(ctx context.Context, js jetstream.JetStream) (bool, error) {
	names := js.StreamNames(ctx)
	var streams []string
	for n := range names.Name() {
		streams = append(streams, n)
	}
	if err := names.Err(); err != nil {
		return false, fmt.Errorf("listing streams: %w", err)
	}
	for _, name := range streams {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return false, fmt.Errorf("stream %s: %w", name, err)
		}
		infos := st.ListConsumers(ctx)
		for info := range infos.Info() {
			if info.NumPending > 0 || info.NumAckPending > 0 || info.NumWaiting < 0 {
				return false, nil
			}
		}
		if err := infos.Err(); err != nil {
			return false, fmt.Errorf("listing consumers of %s: %w", name, err)
		}
	}
	return true, nil
}

// WaitIdle waits until Idle has held for settle (long enough for a handler
// that just acknowledged to have published its follow-up events), polling
// every 50ms, or until ctx is done.
func WaitIdle(ctx context.Context, js jetstream.JetStream, settle time.Duration) error {
	var since time.Time
	for {
		idle, err := Idle(ctx, js)
		if err != nil {
			return err
		}
		switch {
		case !idle:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) >= settle:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the consumers to finish: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DeadLetters returns how many dead-letter records the DEADLETTER stream holds.
func DeadLetters(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	st, err := js.Stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}
