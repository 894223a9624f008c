package githubapi

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
)

// budgetBucket starts JetStream and returns a function that opens the
// budget bucket on a connection of its own, as each replica would.
func budgetBucket(t *testing.T) func() jetstream.KeyValue {
	t.Helper()
	srv := bustest.Start(t)
	return func() jetstream.KeyValue {
		conn := srv.Connect()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		kv, err := bus.EnsureKV(ctx, conn, "github_write_budget", 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
}

func newShared(t *testing.T, kv jetstream.KeyValue, o BudgetOptions) *SharedBudget {
	t.Helper()
	b, err := NewSharedBudget(kv, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestSharedBudgetIsOneBucketForEveryReplica(t *testing.T) {
	open := budgetBucket(t)
	clock := newFakeClock()
	a := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 3, Clock: clock})
	b := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 3, Clock: clock})
	ctx := context.Background()
	for _, r := range []*SharedBudget{a, b, a} {
		if err := r.Write(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
	}
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("the shared burst of 3 waited %v", s)
	}
	// The burst is spent for both: each next write waits its own interval.
	for _, r := range []*SharedBudget{b, a} {
		if err := r.Write(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{time.Second, time.Second}) {
		t.Fatalf("writes after the shared burst slept %v, want [1s 1s]", s)
	}
	// Another identity has a budget of its own.
	if err := b.Write(ctx, "other"); err != nil || len(clock.takeSleeps()) != 0 {
		t.Fatalf("another key waited (err %v)", err)
	}
}

func TestSharedBudgetPauseReachesEveryReplica(t *testing.T) {
	open := budgetBucket(t)
	clock := newFakeClock()
	a := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 20, Clock: clock})
	b := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 20, Clock: clock})
	ctx := context.Background()
	until := clock.Now().Add(time.Minute)
	if err := a.Pause(ctx, "inst", until); err != nil {
		t.Fatal(err)
	}
	// b learns of the pause through its watch (wait for that event).
	deadline := time.Now().Add(10 * time.Second)
	for !pausedIn(b, "inst") {
		if time.Now().After(deadline) {
			t.Fatal("the pause never reached the other replica")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := b.Read(ctx, "inst"); err != nil {
		t.Fatal(err)
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{time.Minute}) {
		t.Fatalf("b's read slept %v, want [1m]", s)
	}
	// After the pause writes resume at the steady rate, not in a burst.
	for range 2 {
		if err := b.Write(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{time.Second}) {
		t.Fatalf("writes after the pause slept %v, want [1s]", s)
	}
}

func pausedIn(b *SharedBudget, key string) bool {
	for _, lv := range b.Levels() {
		if lv.Key == key && lv.Paused > 0 {
			return true
		}
	}
	return false
}

func TestSharedBudgetGivesBackATurnPastTheDeadline(t *testing.T) {
	open := budgetBucket(t)
	// The deadline below is a real one: start the clock at the real time.
	clock := &fakeClock{now: time.Now()}
	a := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 1, Clock: clock})
	b := newShared(t, open(), BudgetOptions{Rate: 1, Burst: 1, Clock: clock})
	ctx := context.Background()
	if err := a.Write(ctx, "inst"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithDeadline(ctx, clock.Now().Add(500*time.Millisecond))
	defer cancel()
	err := b.Write(short, "inst")
	var ra *RetryAfterError
	if !errors.As(err, &ra) || ra.Delay != time.Second || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a RetryAfterError of 1s wrapping DeadlineExceeded", err)
	}
	// The turn b gave back goes to the next caller: one interval, not two.
	if err := a.Write(ctx, "inst"); err != nil {
		t.Fatal(err)
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{time.Second}) {
		t.Fatalf("next write slept %v, want [1s]", s)
	}
}

func TestSharedBudgetFailsWritesWhenTheBucketIsGone(t *testing.T) {
	srv := bustest.Start(t)
	conn := srv.Connect()
	ctx := context.Background()
	kv, err := bus.EnsureKV(ctx, conn, "github_write_budget", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := newShared(t, kv, BudgetOptions{Rate: 1, Burst: 5, CallTimeout: 200 * time.Millisecond})
	srv.Stop()
	if err := b.Write(ctx, "inst"); err == nil {
		t.Fatal("a write went out unaccounted while JetStream was down")
	}
}

// TestSharedBudgetAcrossConnections runs 4 budget clients, each on its own
// connection, with several writers each, and checks that the turns they were
// given never exceed burst + rate × window, in every window.
func TestSharedBudgetAcrossConnections(t *testing.T) {
	const rate, burst, replicas, writers = 200.0, 10, 4, 4
	run := time.Second
	if testing.Short() {
		run = 300 * time.Millisecond
	}
	open := budgetBucket(t)
	var mu sync.Mutex
	var starts []time.Time
	var wg sync.WaitGroup
	stop := time.Now().Add(run)
	for range replicas {
		b := newShared(t, open(), BudgetOptions{Rate: rate, Burst: burst})
		b.onTurn = func(start time.Time) {
			mu.Lock()
			starts = append(starts, start)
			mu.Unlock()
		}
		for range writers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if err := b.Write(context.Background(), "inst"); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if len(starts) < burst+int(rate*run.Seconds())/2 {
		t.Fatalf("only %d writes in %v: the budget starves its clients", len(starts), run)
	}
	for _, w := range []time.Duration{0, 10 * time.Millisecond, 100 * time.Millisecond, run} {
		limit := burst + int(rate*w.Seconds())
		if got := maxInWindow(starts, w); got > limit {
			t.Errorf("%d writes within %v across %d replicas, want at most %d", got, w, replicas, limit)
		}
	}
}

// An entry that is not a schedule (written by something else) is started
// afresh instead of failing every write of the identity until it expires.
func TestSharedBudgetReplacesAnUnreadableEntry(t *testing.T) {
	kv := budgetBucket(t)()
	ctx := context.Background()
	if _, err := kv.Put(ctx, "inst", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	b := newShared(t, kv, BudgetOptions{Rate: 1, Burst: 2, Clock: clock})
	for range 2 {
		if err := b.Write(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
	}
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("a fresh burst of 2 waited %v", s)
	}
}
