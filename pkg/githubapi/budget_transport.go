package githubapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"
)

// BudgetTransport spends budget b under key for the calls through it:
// content-creating calls (POST, PATCH, PUT, DELETE, GraphQL mutations) take
// a write turn, the others only wait out a pause. A response saying GitHub
// rate-limited the identity (see rateLimitedUntil) pauses key for everyone
// sharing b.
func BudgetTransport(b Budget, clock Clock, key string, next http.RoundTripper) http.RoundTripper {
	if clock == nil {
		clock = wallClock{}
	}
	return &budgetTransport{budget: b, clock: clock, key: key, next: next}
}

type budgetTransport struct {
	budget Budget
	clock  Clock
	key    string
	next   http.RoundTripper
}

func (t *budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var err error
	if createsContent(req) {
		err = t.budget.Write(req.Context(), t.key)
	} else {
		err = t.budget.Read(req.Context(), t.key)
	}
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		if until, limited := rateLimitedUntil(resp, t.clock.Now()); limited {
			// The caller learns about the limit from the response itself;
			// a pause that cannot be recorded only costs the others a 403.
			_ = t.budget.Pause(req.Context(), t.key, until)
		}
	}
	return resp, err
}

// maxBodyPeek bounds how much of a 403 body is read to recognise a
// secondary rate limit without a Retry-After header.
const maxBodyPeek = 64 << 10

// rateLimitedUntil reports whether resp says the identity is rate-limited,
// and until when, as GitHub documents it: a Retry-After header (secondary
// limit); X-RateLimit-Remaining 0 with X-RateLimit-Reset (primary limit, on
// any answer: the next call would fail) for the core or GraphQL resource;
// a 429, or a 403 whose message speaks of a rate limit, without those
// headers: one minute.
func rateLimitedUntil(resp *http.Response, now time.Time) (time.Time, bool) {
	h := resp.Header
	limitedStatus := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests
	if limitedStatus {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
			return now.Add(d), true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" && sharedResource(h.Get("X-RateLimit-Resource")) {
		if reset, ok := parseEpoch(h.Get("X-RateLimit-Reset")); ok {
			// Reset is in whole seconds: one more keeps clear of it.
			return now.Add(min(max(0, reset.Sub(now)), maxRateLimitDelay) + time.Second), true
		}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return now.Add(defaultSecondaryDelay), true
	case resp.StatusCode == http.StatusForbidden && mentionsRateLimit(resp):
		return now.Add(defaultSecondaryDelay), true
	}
	return time.Time{}, false
}

// sharedResource reports whether a rate-limit resource is one every call
// of the identity spends (search and the like have their own small limits).
func sharedResource(resource string) bool {
	switch resource {
	case "", "core", "graphql":
		return true
	}
	return false
}

// mentionsRateLimit reads the start of resp's body (and puts it back) to
// see whether GitHub's message is about a rate limit.
func mentionsRateLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	return strings.Contains(strings.ToLower(string(head)), "rate limit")
}
