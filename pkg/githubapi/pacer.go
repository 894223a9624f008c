package githubapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Clock is the time source of a Pacer; tests replace it.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pacer spaces content-creating calls (POST, PATCH, PUT, DELETE and
// GraphQL mutations) per key, one key per installation or token, with a
// token bucket: Burst calls at once, then Rate per second. Reads are not paced.
type Pacer struct {
	rate  float64
	burst float64
	clock Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

// NewPacer returns a Pacer allowing burst calls at once and rate calls per
// second after that, per key. A nil clock means the wall clock.
func NewPacer(rate float64, burst int, clock Clock) *Pacer {
	if clock == nil {
		clock = wallClock{}
	}
	return &Pacer{rate: rate, burst: float64(burst), clock: clock, buckets: map[string]*bucket{}}
}

// Wait blocks until key may make one more content-creating call. It
// returns at once with an error when ctx ends first or when its deadline
// falls before the turn would come.
func (p *Pacer) Wait(ctx context.Context, key string) error {
	b := p.bucket(key)
	now := p.clock.Now()
	wait := b.reserve(now)
	if wait <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline) {
		b.release()
		return fmt.Errorf("pacing github writes for %s: the next turn in %v is after the deadline: %w", key, wait, context.DeadlineExceeded)
	}
	if err := p.clock.Sleep(ctx, wait); err != nil {
		b.release()
		return fmt.Errorf("pacing github writes for %s: %w", key, err)
	}
	return nil
}

func (p *Pacer) bucket(key string) *bucket {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.buckets[key]
	if !ok {
		b = &bucket{rate: p.rate, burst: p.burst}
		p.buckets[key] = b
	}
	return b
}

// Transport paces the content-creating calls passing through it under key.
func (p *Pacer) Transport(key string, next http.RoundTripper) http.RoundTripper {
	return &pacedTransport{pacer: p, key: key, next: next}
}

// bucket is one token bucket. Tokens may go negative: each caller reserves
// its token at once and waits for its own turn, so waiters are served in
// arrival order.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// reserve takes a token at now and returns how long to wait before using it.
func (b *bucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// release gives back a token whose caller stopped waiting.
func (b *bucket) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.burst, b.tokens+1)
}

type pacedTransport struct {
	pacer *Pacer
	key   string
	next  http.RoundTripper
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if createsContent(req) {
		if err := t.pacer.Wait(req.Context(), t.key); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	return t.next.RoundTrip(req)
}

// createsContent reports whether req changes anything on GitHub: any
// POST, PATCH, PUT or DELETE, except GraphQL queries (which are POSTs too).
func createsContent(req *http.Request) bool {
	switch req.Method {
	case http.MethodPost:
		if isGraphQL(req.URL.Path) {
			return isMutation(req)
		}
		return true
	case http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	default:
		return false
	}
}

func isGraphQL(path string) bool {
	return path == "/graphql" || strings.HasSuffix(path, "/api/graphql")
}

// isMutation reads a copy of a GraphQL request body; a body it cannot read
// counts as a mutation.
func isMutation(req *http.Request) bool {
	if req.GetBody == nil {
		return true
	}
	body, err := req.GetBody()
	if err != nil {
		return true
	}
	defer body.Close()
	var op struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(body).Decode(&op); err != nil {
		return true
	}
	return strings.HasPrefix(strings.TrimSpace(op.Query), "mutation")
}
