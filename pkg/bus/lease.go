package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Leases hands out leases on the keys of one KV bucket, the one lease of
// every service: at most one holder at a time across replicas, renewed by
// the holder in the background, taken over by another once it expires.
//
// A lease fences the work it protects: the work runs under Lease.Context,
// which is cancelled as soon as the holder cannot be sure it still holds the
// lease (another holder took it over, or renewals failed until the lease
// could have expired). So a holder that lost its lease stops writing before
// another one starts.
type Leases struct {
	records *Records[leaseRecord]
	ttl     time.Duration
	process string
	log     *slog.Logger
}

// leaseRecord is the value of a lease: who holds it, until when. Expiry is
// in the value, so replicas with different settings agree.
type leaseRecord struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// ErrLeaseHeld says another holder has the lease.
var ErrLeaseHeld = errors.New("the lease is held by another process")

// ErrLeaseLost is the cause of a lease context cancelled because the lease
// was lost.
var ErrLeaseLost = errors.New("lease lost")

// OpenLeases returns the leases of bucket (created if missing) with the
// given time to live; a holder renews every third of it.
func OpenLeases(ctx context.Context, conn *Conn, bucket string, ttl time.Duration, log *slog.Logger) (*Leases, error) {
	// Records of dead holders outlive their lease; the bucket's TTL clears
	// them eventually.
	records, err := OpenRecords[leaseRecord](ctx, conn, bucket, max(time.Hour, 10*ttl), "lease")
	if err != nil {
		return nil, err
	}
	return NewLeases(records.kv, ttl, conn.CallTimeout, log), nil
}

// NewLeases returns leases on an opened bucket; timeout bounds each NATS call.
func NewLeases(kv jetstream.KeyValue, ttl, timeout time.Duration, log *slog.Logger) *Leases {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	return &Leases{
		records: NewRecords[leaseRecord](kv, "lease", timeout),
		ttl:     ttl,
		process: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), events.RandomID()[:8]),
		log:     log,
	}
}

// Acquire takes the lease on key, waiting up to wait (0: not at all) for
// its holder to release it or for it to expire. It returns ErrLeaseHeld
// when the lease is still held after wait. The lease's context derives from
// ctx.
func (l *Leases) Acquire(ctx context.Context, key string, wait time.Duration) (*Lease, error) {
	deadline := time.Now().Add(wait)
	holder := l.process + "-" + events.RandomID()[:8]
	delay := 50 * time.Millisecond
	for {
		rev, expires, err := l.take(ctx, key, holder)
		if err != nil {
			return nil, err
		}
		if rev != 0 {
			return l.hold(ctx, key, holder, rev, expires), nil
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("lease %s: %w", key, ErrLeaseHeld)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// take writes the lease for holder if it is free or expired; it returns
// the revision written, or 0 when someone else holds it.
func (l *Leases) take(ctx context.Context, key, holder string) (uint64, time.Time, error) {
	cur, rev, err := l.records.Get(ctx, key)
	if err != nil {
		return 0, time.Time{}, err
	}
	if cur != nil && time.Now().Before(cur.Expires) {
		return 0, time.Time{}, nil
	}
	expires := time.Now().Add(l.ttl).UTC()
	ok, next, err := l.records.write(ctx, key, &leaseRecord{Holder: holder, Expires: expires}, rev)
	if err != nil || !ok {
		return 0, time.Time{}, err
	}
	return next, expires, nil
}

// Lease is a held lease. Run the work it protects under Context, and
// Release it when done.
type Lease struct {
	leases *Leases
	key    string
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu  sync.Mutex
	rev uint64
}

// Context is done when the lease is lost or released; context.Cause then
// tells which (ErrLeaseLost).
func (h *Lease) Context() context.Context { return h.ctx }

// Lost is closed when the lease is lost or released.
func (h *Lease) Lost() <-chan struct{} { return h.ctx.Done() }

// hold renews the lease every third of its TTL until it is released or lost.
// A fence timer cancels the lease context a third of the TTL before the
// lease could expire unless a renewal moved the expiry on, whatever the
// renewals are doing (one may wait on a NATS node that died).
func (l *Leases) hold(parent context.Context, key, holder string, rev uint64, expires time.Time) *Lease {
	ctx, cancel := context.WithCancelCause(parent)
	h := &Lease{leases: l, key: key, ctx: ctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{}), rev: rev}
	margin := l.ttl / 3
	fence := time.AfterFunc(time.Until(expires.Add(-margin)), func() {
		l.log.Error("lease could not be renewed in time; stopping the work it protects", "lease", key)
		cancel(fmt.Errorf("lease %s not renewed in time: %w", key, ErrLeaseLost))
	})
	go func() {
		defer close(h.done)
		defer fence.Stop()
		t := time.NewTicker(margin)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			next := time.Now().Add(l.ttl).UTC()
			h.mu.Lock()
			ok, newRev, err := l.records.write(context.WithoutCancel(ctx), key, &leaseRecord{Holder: holder, Expires: next}, h.rev)
			if ok {
				h.rev = newRev
			}
			h.mu.Unlock()
			switch {
			case ok:
				if ctx.Err() == nil {
					fence.Reset(time.Until(next.Add(-margin)))
				}
			case err == nil: // the record changed: another holder took the lease
				l.log.Error("lease taken over by another holder; stopping the work it protects", "lease", key)
				cancel(fmt.Errorf("lease %s taken over: %w", key, ErrLeaseLost))
				return
			default:
				l.log.Warn("renewing lease; will retry", "lease", key, "error", err)
			}
		}
	}()
	return h
}

// Release stops renewing, cancels the lease context and frees the lease
// (if it is still this holder's), so another holder may take it at once.
func (h *Lease) Release() {
	select {
	case <-h.stop:
		return // released before
	default:
		close(h.stop)
	}
	<-h.done
	h.cancel(context.Canceled)
	// Deleting at the revision written last frees the lease only if no one
	// took it over meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), DefaultCallTimeout)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.leases.records.Delete(ctx, h.key, h.rev); err != nil {
		h.leases.log.Warn("releasing lease; it will expire", "lease", h.key, "error", err)
	}
}
