package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
)

func openLeases(t *testing.T, c *bus.Conn, ttl time.Duration) *bus.Leases {
	t.Helper()
	l, err := bus.OpenLeases(context.Background(), c, "test_leases", ttl, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLeaseHasOneHolder(t *testing.T) {
	srv := bustest.Start(t)
	a, b := openLeases(t, srv.Connect(), 3*time.Second), openLeases(t, srv.Connect(), 3*time.Second)
	ctx := context.Background()
	held, err := a.Acquire(ctx, "group", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "group", 0); !errors.Is(err, bus.ErrLeaseHeld) {
		t.Fatalf("second holder: %v, want ErrLeaseHeld", err)
	}
	if _, err := a.Acquire(ctx, "group", 0); !errors.Is(err, bus.ErrLeaseHeld) {
		t.Fatalf("second holder in the same process: %v, want ErrLeaseHeld", err)
	}
	held.Release()
	if held.Context().Err() == nil {
		t.Fatal("a released lease's context is not done")
	}
	again, err := b.Acquire(ctx, "group", 0)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

// A holder whose lease is taken over stops: its lease context is cancelled
// with ErrLeaseLost, so the work it protects stops writing.
func TestLeaseTakenOverStopsItsWork(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	leases := openLeases(t, c, 900*time.Millisecond)
	held, err := leases.Acquire(context.Background(), "group", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	// Another holder overwrites the lease (as one that saw it expired would).
	kv, err := c.JS.KeyValue(context.Background(), "test_leases")
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	if _, err := kv.Put(context.Background(), "group", []byte(`{"holder":"intruder","expires":"`+future+`"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Lost():
		if !errors.Is(context.Cause(held.Context()), bus.ErrLeaseLost) {
			t.Fatalf("cause = %v", context.Cause(held.Context()))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the holder kept working after its lease was taken over")
	}
}

// A holder that cannot renew (its NATS node stopped answering) stops its
// work before the lease expires, so the next holder never works alongside.
func TestLeaseNotRenewedStopsItsWorkBeforeAnotherTakesIt(t *testing.T) {
	srv := bustest.Start(t)
	proxy := bustest.NewProxy(t, srv)
	cut, err := bus.Connect(bus.ConnOptions{URL: proxy.URL(), Name: t.Name(), CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cut.NC.Close() })
	ttl := 1500 * time.Millisecond
	first, err := openLeases(t, cut, ttl).Acquire(context.Background(), "metrics", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	proxy.Freeze()
	second, err := openLeases(t, srv.Connect(), ttl).Acquire(context.Background(), "metrics", 30*time.Second)
	if err != nil {
		t.Fatalf("the next holder never got the lease: %v", err)
	}
	defer second.Release()
	select {
	case <-first.Lost():
	default:
		t.Fatal("two holders at once: the first still works after the second took the lease")
	}
	if !errors.Is(context.Cause(first.Context()), bus.ErrLeaseLost) {
		t.Fatalf("cause = %v", context.Cause(first.Context()))
	}
	proxy.Thaw()
}
