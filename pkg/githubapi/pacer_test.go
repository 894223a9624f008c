package githubapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when someone sleeps on it, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) takeSleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sleeps
	c.sleeps = nil
	return s
}

func TestPacerBurstThenRate(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 5, clock)
	ctx := context.Background()
	for i := range 5 {
		if err := p.Wait(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
		if s := clock.takeSleeps(); len(s) != 0 {
			t.Fatalf("call %d of the burst waited %v", i+1, s)
		}
	}
	for i := range 3 {
		if err := p.Wait(ctx, "inst"); err != nil {
			t.Fatal(err)
		}
		if s := clock.takeSleeps(); len(s) != 1 || s[0] != time.Second {
			t.Fatalf("call %d after the burst waited %v, want [1s]", i+6, s)
		}
	}
	// An idle spell refills the bucket, but only up to the burst.
	clock.advance(time.Hour)
	for range 5 {
		_ = p.Wait(ctx, "inst")
	}
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("refilled burst waited %v", s)
	}
	_ = p.Wait(ctx, "inst")
	if s := clock.takeSleeps(); len(s) != 1 || s[0] != time.Second {
		t.Fatalf("after the refilled burst waited %v, want [1s]", s)
	}
}

func TestPacerQueuesWaitersInOrder(t *testing.T) {
	l := newLimits(2, 1)
	var s schedule
	now := time.Unix(1000, 0)
	want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}
	for i, w := range want {
		var start time.Time
		if s, start = l.reserve(s, now); start.Sub(now) != w {
			t.Errorf("reservation %d at the same instant waits %v, want %v", i, start.Sub(now), w)
		}
	}
	// Half a second later the second-in-line's turn has come, the others move up.
	later := now.Add(500 * time.Millisecond)
	if _, start := l.reserve(s, later); start.Sub(later) != 1500*time.Millisecond {
		t.Errorf("later reservation waits %v, want 1.5s", start.Sub(later))
	}
}

func TestPacerKeysAreIndependent(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 1, clock)
	ctx := context.Background()
	_ = p.Wait(ctx, "installation 1")
	_ = p.Wait(ctx, "installation 2")
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("different keys share a bucket: waited %v", s)
	}
}

func TestPacerHonoursContext(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 1, clock)
	_ = p.Wait(context.Background(), "k")

	// A deadline before the turn fails at once, without sleeping, and gives the turn back.
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(500*time.Millisecond))
	defer cancel()
	if err := p.Wait(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("slept %v despite the deadline", s)
	}
	// A cancelled context stops the wait.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := p.Wait(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	// Both gave their turn back: the next caller waits one interval, not three.
	if err := p.Wait(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if s := clock.takeSleeps(); len(s) != 1 || s[0] != time.Second {
		t.Fatalf("next caller waited %v, want [1s]", s)
	}
}

func TestPacedTransportPacesOnlyWrites(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 1, clock)
	next := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	tr := p.Transport("k", next)
	graphQL := func(query string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "https://ghe.example.com/api/graphql", bytes.NewBufferString(`{"query":"`+query+`"}`))
		return req
	}
	rest := func(method string) *http.Request {
		req, _ := http.NewRequest(method, "https://ghe.example.com/api/v3/repos/o/r/pulls", nil)
		return req
	}
	cases := []struct {
		name  string
		req   *http.Request
		paced bool
	}{
		{"GET", rest(http.MethodGet), false},
		{"HEAD", rest(http.MethodHead), false},
		{"GraphQL query", graphQL("query{viewer{login}}"), false},
		{"GraphQL query, short form", graphQL("{viewer{login}}"), false},
		{"POST", rest(http.MethodPost), true},
		{"PATCH", rest(http.MethodPatch), true},
		{"PUT", rest(http.MethodPut), true},
		{"DELETE", rest(http.MethodDelete), true},
		{"GraphQL mutation", graphQL("mutation($input:MinimizeCommentInput!){minimizeComment(input:$input){clientMutationId}}"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case starts with the single token spent, so a paced call must wait.
			_ = p.Wait(context.Background(), "k")
			clock.takeSleeps()
			resp, err := tr.RoundTrip(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if waited := len(clock.takeSleeps()) > 0; waited != tc.paced {
				t.Errorf("paced = %v, want %v", waited, tc.paced)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkPacerWaitWithinBurst(b *testing.B) {
	p := NewPacer(1e12, 1<<30, nil)
	ctx := context.Background()
	for b.Loop() {
		_ = p.Wait(ctx, "k")
	}
}
