package githubapi

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// maxInWindow is the largest number of times in any closed window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range sorted {
		for sorted[hi].Sub(sorted[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func TestScheduleNeverExceedsBurstPlusRate(t *testing.T) {
	const rate, burst = 2.0, 5
	l := newLimits(rate, burst)
	rng := rand.New(rand.NewPCG(1, 2))
	var s schedule
	now := time.Unix(1_000_000, 0)
	var starts []time.Time
	for range 2000 {
		// Callers arrive in clumps and lulls; each takes its turn when it comes.
		now = now.Add(time.Duration(rng.IntN(1200)) * time.Millisecond * time.Duration(rng.IntN(2)))
		var start time.Time
		s, start = l.reserve(s, now)
		if start.Before(now) {
			t.Fatalf("turn %v before the request at %v", start, now)
		}
		starts = append(starts, start)
	}
	for _, w := range []time.Duration{0, time.Second, 10 * time.Second, time.Minute} {
		limit := burst + int(rate*w.Seconds())
		if got := maxInWindow(starts, w); got > limit {
			t.Errorf("%d writes start within %v, want at most %d", got, w, limit)
		}
	}
}

func TestScheduleBurstThenRate(t *testing.T) {
	l := newLimits(1, 3)
	now := time.Unix(1000, 0)
	var s schedule
	var waits []time.Duration
	for range 6 {
		var start time.Time
		s, start = l.reserve(s, now)
		waits = append(waits, start.Sub(now))
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 3 * time.Second}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	if lv := l.level("k", s, now); lv.Remaining != 0 {
		t.Errorf("remaining %v with writes queued, want 0", lv.Remaining)
	}
	if lv := l.level("k", s, now.Add(time.Hour)); lv.Remaining != 3 {
		t.Errorf("remaining %v after an hour idle, want the burst 3", lv.Remaining)
	}
	// Giving back the last turn lets the next caller take it.
	s = l.release(s, now)
	if _, start := l.reserve(s, now); start.Sub(now) != 3*time.Second {
		t.Errorf("after a release the next turn is in %v, want 3s", start.Sub(now))
	}
}

func TestSchedulePauseHoldsWritesAndSpendsTheBurst(t *testing.T) {
	l := newLimits(1, 20)
	now := time.Unix(1000, 0)
	until := now.Add(30 * time.Second)
	s := l.pause(schedule{}, until)
	if lv := l.level("k", s, now); lv.Paused != 30*time.Second || lv.Remaining != 0 {
		t.Fatalf("level %+v, want paused 30s with nothing remaining", lv)
	}
	s, start := l.reserve(s, now)
	if !start.Equal(until) {
		t.Fatalf("first write after the pause at %v, want %v", start, until)
	}
	if _, start = l.reserve(s, now); !start.Equal(until.Add(time.Second)) {
		t.Fatalf("second write at %v, want one interval after the pause", start)
	}
	// An earlier pause never shortens a later one.
	if got := l.pause(s, now.Add(time.Second)); !got.PausedUntil.Equal(until) {
		t.Fatalf("paused until %v, want %v", got.PausedUntil, until)
	}
}

func TestPacerReadWaitsOutAPause(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 5, clock)
	ctx := context.Background()
	if err := p.Read(ctx, "k"); err != nil || len(clock.takeSleeps()) != 0 {
		t.Fatalf("read without a pause: err %v, slept", err)
	}
	_ = p.Pause(ctx, "k", clock.Now().Add(10*time.Second))
	if err := p.Read(ctx, "other"); err != nil || len(clock.takeSleeps()) != 0 {
		t.Fatal("a pause of one key held another")
	}
	if err := p.Read(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{10 * time.Second}) {
		t.Fatalf("read slept %v, want [10s]", s)
	}
	// A pause past the deadline asks for a retry when it ends.
	_ = p.Pause(ctx, "k", clock.Now().Add(time.Minute))
	dctx, cancel := context.WithDeadline(ctx, clock.Now().Add(time.Second))
	defer cancel()
	err := p.Read(dctx, "k")
	var ra *RetryAfterError
	if !errors.As(err, &ra) || ra.Delay != time.Minute {
		t.Fatalf("err = %v, want a RetryAfterError of 1m", err)
	}
}

func TestRateLimitedUntil(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	reset := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)
	cases := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   time.Duration // 0: not limited
	}{
		{"secondary limit with Retry-After", 403, map[string]string{"Retry-After": "30"}, `{"message":"You have exceeded a secondary rate limit"}`, 30 * time.Second},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, "", 7 * time.Second},
		{"primary limit", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, `{"message":"API rate limit exceeded"}`, 10*time.Minute + time.Second},
		{"last call of the hour succeeded", 200, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "X-RateLimit-Resource": "core"}, "", 10*time.Minute + time.Second},
		{"search budget spent", 200, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset, "X-RateLimit-Resource": "search"}, "", 0},
		{"secondary limit without headers", 403, nil, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes"}`, time.Minute},
		{"429 without headers", 429, nil, "", time.Minute},
		{"permission denied", 403, map[string]string{"X-RateLimit-Remaining": "4000"}, `{"message":"Resource not accessible by integration"}`, 0},
		{"Retry-After on a 503 is the server's business", 503, map[string]string{"Retry-After": "30"}, "", 0},
		{"ordinary answer", 200, map[string]string{"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": reset}, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tc.body))}
			for k, v := range tc.header {
				resp.Header.Set(k, v)
			}
			until, limited := rateLimitedUntil(resp, now)
			if limited != (tc.want != 0) || (limited && until.Sub(now) != tc.want) {
				t.Fatalf("limited %v until +%v, want +%v", limited, until.Sub(now), tc.want)
			}
			// The body is still there for go-github.
			if body, _ := io.ReadAll(resp.Body); string(body) != tc.body {
				t.Fatalf("body after the check %q, want %q", body, tc.body)
			}
		})
	}
}

func TestBudgetTransportPausesEveryCallAfterARateLimit(t *testing.T) {
	clock := newFakeClock()
	p := NewPacer(1, 5, clock)
	limited := true
	next := roundTripFunc(func(*http.Request) (*http.Response, error) {
		h := http.Header{}
		status := http.StatusOK
		if limited {
			status = http.StatusForbidden
			h.Set("Retry-After", "45")
		}
		return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}, nil
	})
	a := p.Transport("inst", next)
	b := p.Transport("inst", next) // another client of the same installation
	req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/repos/o/r/git/trees", nil)
	resp, err := a.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("first call: %v %v", resp, err)
	}
	limited = false
	if s := clock.takeSleeps(); len(s) != 0 {
		t.Fatalf("the limited call itself slept %v", s)
	}
	read, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r", nil)
	if _, err := b.RoundTrip(read); err != nil {
		t.Fatal(err)
	}
	if s := clock.takeSleeps(); !slices.Equal(s, []time.Duration{45 * time.Second}) {
		t.Fatalf("the next read slept %v, want [45s]", s)
	}
}

func TestFactoryReportsTheWriteBudgetLeft(t *testing.T) {
	gh := newFakeGitHub(t, 0, nil)
	gh.extra = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []map[string]any{{"name": "promotion"}})
	})
	reg := prometheus.NewRegistry()
	clock := newFakeClock()
	f, err := NewFactory(Config{OAuthToken: Secret(gh.token), URL: gh.restURL(), WriteRate: 1, WriteBurst: 5},
		Options{Registerer: reg, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := f.ForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := client.Issues.AddLabelsToIssue(ctx, "acme", "gitops", 1, []string{"promotion"}); err != nil {
			t.Fatal(err)
		}
	}
	key := TokenBudgetKey(Secret(gh.token))
	if strings.Contains(key, gh.token) {
		t.Fatalf("budget key %q shows the token", key)
	}
	want := `
# HELP telefonistka_github_write_budget_remaining Content-creating GitHub calls an identity (installation or token) could make at once now, out of GITHUB_WRITE_BURST; shared by every replica when the budget is kept in JetStream.
# TYPE telefonistka_github_write_budget_remaining gauge
telefonistka_github_write_budget_remaining{budget="` + key + `"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "telefonistka_github_write_budget_remaining"); err != nil {
		t.Error(err)
	}
}
