package promoter

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// locker serialises the work on one promotion group across workers and
// replicas with a lease (bus.Leases) in a KV bucket. The work runs under
// the lease's context, so a promoter that loses the lease (it could not
// renew it, or another took it over) stops writing.
type locker struct {
	leases *bus.Leases
	wait   time.Duration
}

// errLocked says another worker holds the group; the message is retried.
var errLocked = errors.New("another worker is promoting this group")

// lockRetry is the redelivery delay after waiting for a lock in vain.
const lockRetry = 2 * time.Second

func newLocker(ctx context.Context, conn *bus.Conn, ttl, wait time.Duration, log *slog.Logger) (*locker, error) {
	leases, err := bus.OpenLeases(ctx, conn, events.BucketPromotionLocks, ttl, log)
	if err != nil {
		return nil, err
	}
	return &locker{leases: leases, wait: wait}, nil
}

// acquire takes the lock of key, waiting up to l.wait. It returns the
// context the group's work runs under (cancelled when the lock is lost) and
// the release function, or an error asking the bus to retry later.
func (l *locker) acquire(ctx context.Context, key string) (context.Context, func(), error) {
	lease, err := l.leases.Acquire(ctx, key, l.wait)
	if errors.Is(err, bus.ErrLeaseHeld) {
		return nil, nil, bus.RetryAfter(errLocked, lockRetry)
	}
	if err != nil {
		return nil, nil, err
	}
	return lease.Context(), lease.Release, nil
}
