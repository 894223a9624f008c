package githubapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
)

// BudgetOptions configure a SharedBudget.
type BudgetOptions struct {
	// Rate and Burst are the token bucket (default DefaultWriteRate, DefaultWriteBurst).
	Rate  float64
	Burst int
	// Clock is the time source (default the wall clock). Replicas compare
	// times written by each other: keep their clocks in sync (NTP).
	Clock Clock
	// CallTimeout bounds each KV call (default 5s).
	CallTimeout time.Duration
	Log         *slog.Logger
}

// DefaultBudgetCallTimeout bounds one KV call of a SharedBudget.
const DefaultBudgetCallTimeout = 5 * time.Second

// SharedBudget is a Budget kept in a JetStream KV bucket, one key per
// identity, so all replicas of all services using the same installation or
// token share one write budget and one pause. Each write turn is one
// compare-and-set of the key's schedule (GCRA); a conflict re-reads the key
// and tries again. A watch on the bucket keeps every process's view of the
// pauses current, so reads check a pause without a round trip.
//
// If the bucket cannot be reached a write fails (the work is retried later)
// rather than going out unaccounted.
type SharedBudget struct {
	records *bus.Records[schedule] // one record per key (bus.Records, compare-and-set)
	limits  limits
	clock   Clock
	timeout time.Duration
	log     *slog.Logger

	mu    sync.Mutex
	view  map[string]viewEntry
	locks map[string]*sync.Mutex // one compare-and-set loop per key per process

	stop    context.CancelFunc
	stopped chan struct{}

	onTurn func(start time.Time) // tests: the turn of every write that went
}

type viewEntry struct {
	sched    schedule
	revision uint64
}

// NewSharedBudget returns a SharedBudget on the bucket kv and starts
// watching it; Close stops the watch.
func NewSharedBudget(kv jetstream.KeyValue, o BudgetOptions) (*SharedBudget, error) {
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultBudgetCallTimeout
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Rate == 0 {
		o.Rate = DefaultWriteRate
	}
	if o.Burst == 0 {
		o.Burst = DefaultWriteBurst
	}
	b := &SharedBudget{records: bus.NewRecords[schedule](kv, "github write budget", o.CallTimeout),
		limits: newLimits(o.Rate, o.Burst), clock: o.Clock, timeout: o.CallTimeout, log: o.Log, view: map[string]viewEntry{}, locks: map[string]*sync.Mutex{}, stopped: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	// The watch lives as long as ctx: it is not bounded by CallTimeout.
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watching the github write budget: %w", err)
	}
	go b.watch(ctx, w)
	return b, nil
}

// Close stops watching the bucket.
func (b *SharedBudget) Close() {
	b.stop()
	<-b.stopped
}

func (b *SharedBudget) watch(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(b.stopped)
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // the initial values are in
				continue
			}
			var s schedule
			if err := json.Unmarshal(e.Value(), &s); err != nil {
				b.log.Warn("unreadable github write budget entry", "key", e.Key(), "error", err)
				continue
			}
			b.remember(e.Key(), s, e.Revision())
		}
	}
}

// remember keeps s as key's schedule unless a newer revision is known.
func (b *SharedBudget) remember(key string, s schedule, revision uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.view[key]; ok && cur.revision >= revision {
		return
	}
	b.view[key] = viewEntry{sched: s, revision: revision}
}

func (b *SharedBudget) lock(key string) *sync.Mutex {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.locks[key]
	if !ok {
		l = &sync.Mutex{}
		b.locks[key] = l
	}
	return l
}

// maxConflicts bounds one update's compare-and-set attempts.
const maxConflicts = 100

// update applies change to key's schedule with compare-and-set, starting
// from the view and re-reading the key after a conflict.
func (b *SharedBudget) update(ctx context.Context, key string, change func(schedule, time.Time) schedule) (schedule, time.Time, error) {
	l := b.lock(key)
	l.Lock()
	defer l.Unlock()
	b.mu.Lock()
	cur, known := b.view[key]
	b.mu.Unlock()
	for range maxConflicts {
		if !known {
			var err error
			if cur, err = b.read(ctx, key); err != nil {
				return schedule{}, time.Time{}, err
			}
		}
		now := b.clock.Now()
		next := change(cur.sched, now)
		stored, rev, err := b.records.Write(ctx, key, &next, cur.revision)
		switch {
		case err != nil:
			return schedule{}, time.Time{}, err
		case stored:
			b.remember(key, next, rev)
			return next, now, nil
		}
		known = false // another replica wrote first: read its schedule and try again
	}
	return schedule{}, time.Time{}, fmt.Errorf("updating the github write budget of %s: %d conflicting updates in a row", key, maxConflicts)
}

// read fetches key's schedule; a missing key is a fresh schedule at
// revision 0. An unreadable entry is deleted and started afresh.
func (b *SharedBudget) read(ctx context.Context, key string) (viewEntry, error) {
	s, rev, err := b.records.Get(ctx, key)
	if bus.IsPermanent(err) {
		b.log.Warn("unreadable github write budget entry; starting it afresh", "key", key, "error", err)
		return viewEntry{}, b.records.Delete(ctx, key, 0)
	}
	if err != nil || s == nil {
		return viewEntry{}, err
	}
	return viewEntry{sched: *s, revision: rev}, nil
}

// Write takes key's next write turn and waits for it. A turn that would
// come after ctx's deadline is given back and the error asks to retry then.
func (b *SharedBudget) Write(ctx context.Context, key string) error {
	var start time.Time
	_, _, err := b.update(ctx, key, func(s schedule, now time.Time) schedule {
		s, start = b.limits.reserve(s, now)
		return s
	})
	if err != nil {
		return err
	}
	if err := waitUntil(ctx, b.clock, "pacing github writes for "+key, start); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout)
		defer cancel()
		if _, _, rerr := b.update(rctx, key, b.limits.release); rerr != nil {
			b.log.Warn("giving back a github write turn", "key", key, "error", rerr)
		}
		return err
	}
	if b.onTurn != nil {
		b.onTurn(start)
	}
	return nil
}

// Read waits while key is paused (as far as this process has seen).
func (b *SharedBudget) Read(ctx context.Context, key string) error {
	b.mu.Lock()
	until := b.view[key].sched.PausedUntil
	b.mu.Unlock()
	return waitUntil(ctx, b.clock, "waiting out github's rate limit for "+key, until)
}

// Pause holds every call of key, in every process, until until.
func (b *SharedBudget) Pause(ctx context.Context, key string, until time.Time) error {
	b.mu.Lock()
	known := b.view[key].sched.PausedUntil
	b.mu.Unlock()
	if !until.After(known) {
		return nil
	}
	b.log.Warn("github rate limit: pausing every replica's calls", "budget", key, "until", until)
	_, _, err := b.update(context.WithoutCancel(ctx), key, func(s schedule, _ time.Time) schedule {
		return b.limits.pause(s, until)
	})
	return err
}

// Levels reports every key's budget as this process last saw it.
func (b *SharedBudget) Levels() []BudgetLevel {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BudgetLevel, 0, len(b.view))
	for key, e := range b.view {
		out = append(out, b.limits.level(key, e.sched, now))
	}
	return out
}
