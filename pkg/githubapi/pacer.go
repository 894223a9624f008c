package githubapi

import (
	"context"
	"encoding/json"
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

// Pacer is the Budget of one process: a token bucket per key, one key per
// installation or token (Burst calls at once, then Rate per second), and the
// pauses GitHub asked for. Waiters are served in arrival order. Replicas
// share nothing through it: use SharedBudget for that.
type Pacer struct {
	limits limits
	clock  Clock

	mu    sync.Mutex
	sched map[string]schedule
}

// NewPacer returns a Pacer allowing burst calls at once and rate calls per
// second after that, per key. A nil clock means the wall clock.
func NewPacer(rate float64, burst int, clock Clock) *Pacer {
	if clock == nil {
		clock = wallClock{}
	}
	return &Pacer{limits: newLimits(rate, burst), clock: clock, sched: map[string]schedule{}}
}

// Wait blocks until key may make one more content-creating call (Write).
func (p *Pacer) Wait(ctx context.Context, key string) error { return p.Write(ctx, key) }

// Write blocks until key may make one more content-creating call. It
// returns at once with an error when ctx ends first or when its deadline
// falls before the turn would come; the turn is given back then.
func (p *Pacer) Write(ctx context.Context, key string) error {
	p.mu.Lock()
	next, start := p.limits.reserve(p.sched[key], p.clock.Now())
	p.sched[key] = next
	p.mu.Unlock()
	if err := waitUntil(ctx, p.clock, "pacing github writes for "+key, start); err != nil {
		p.mu.Lock()
		p.sched[key] = p.limits.release(p.sched[key], p.clock.Now())
		p.mu.Unlock()
		return err
	}
	return nil
}

// Read blocks while key is paused.
func (p *Pacer) Read(ctx context.Context, key string) error {
	p.mu.Lock()
	until := p.sched[key].PausedUntil
	p.mu.Unlock()
	return waitUntil(ctx, p.clock, "waiting out github's rate limit for "+key, until)
}

// Pause holds every call of key until until.
func (p *Pacer) Pause(_ context.Context, key string, until time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sched[key] = p.limits.pause(p.sched[key], until)
	return nil
}

// Levels reports every key's budget now.
func (p *Pacer) Levels() []BudgetLevel {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]BudgetLevel, 0, len(p.sched))
	for key, s := range p.sched {
		out = append(out, p.limits.level(key, s, now))
	}
	return out
}

// Transport paces the calls passing through it under key.
func (p *Pacer) Transport(key string, next http.RoundTripper) http.RoundTripper {
	return BudgetTransport(p, p.clock, key, next)
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
