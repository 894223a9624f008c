package promoter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// locker serialises the work on one promotion group across workers and
// replicas with a lease in a KV bucket. The holder renews the lease every
// third of its TTL; a lease whose holder died expires and may be taken.
type locker struct {
	kv   jetstream.KeyValue
	ttl  time.Duration
	wait time.Duration
	log  *slog.Logger
}

type lease struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// errLocked says another worker holds the group; the message is retried.
var errLocked = errors.New("another worker is promoting this group")

// lockRetry is the redelivery delay after waiting for a lock in vain.
const lockRetry = 2 * time.Second

func newLocker(ctx context.Context, js jetstream.JetStream, ttl, wait time.Duration, log *slog.Logger) (*locker, error) {
	// Entries outlive a lease only when a holder died; the bucket TTL
	// clears them eventually.
	kv, err := bus.EnsureKV(ctx, js, events.BucketPromotionLocks, time.Hour)
	if err != nil {
		return nil, err
	}
	return &locker{kv: kv, ttl: ttl, wait: wait, log: log}, nil
}

// acquire takes the lock of key, waiting up to l.wait. It returns the
// release function, or an error asking the bus to retry later.
func (l *locker) acquire(ctx context.Context, key string) (func(), error) {
	deadline := time.Now().Add(l.wait)
	token := events.RandomID()
	delay := 50 * time.Millisecond
	for {
		rev, err := l.try(ctx, key, token)
		if err != nil {
			return nil, err
		}
		if rev != 0 {
			return l.hold(key, token, rev), nil
		}
		if time.Now().After(deadline) {
			return nil, bus.RetryAfter(errLocked, lockRetry)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// try takes the lock if it is free or expired; it returns the revision
// held, or 0 when someone else holds it.
func (l *locker) try(ctx context.Context, key, token string) (uint64, error) {
	data, _ := json.Marshal(lease{Token: token, Expires: time.Now().Add(l.ttl)})
	rev, err := l.kv.Create(ctx, key, data)
	if err == nil {
		return rev, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("taking promotion lock %s: %w", key, err)
	}
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil // released meanwhile: try again
	}
	if err != nil {
		return 0, fmt.Errorf("reading promotion lock %s: %w", key, err)
	}
	var cur lease
	if json.Unmarshal(e.Value(), &cur) == nil && time.Now().Before(cur.Expires) {
		return 0, nil
	}
	rev, err = l.kv.Update(ctx, key, data, e.Revision())
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("taking expired promotion lock %s: %w", key, err)
	}
	return rev, nil
}

// hold renews the lease until the returned function releases it.
func (l *locker) hold(key, token string, rev uint64) func() {
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				data, _ := json.Marshal(lease{Token: token, Expires: time.Now().Add(l.ttl)})
				ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
				mu.Lock()
				next, err := l.kv.Update(ctx, key, data, rev)
				if err == nil {
					rev = next
				}
				mu.Unlock()
				cancel()
				if err != nil {
					l.log.Warn("renewing promotion lock", "key", key, "error", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		mu.Lock()
		defer mu.Unlock()
		if err := l.kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
			l.log.Warn("releasing promotion lock", "key", key, "error", err)
		}
	}
}
