package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"
)

// What pkg/bus looks for, declared here as a consumer would.
type retryAfterer interface{ RetryAfter() time.Duration }
type permanenter interface{ Permanent() bool }

type cannedResponse struct {
	status  int
	headers map[string]string
	body    string
	delay   time.Duration
}

func cannedServer(t *testing.T, responses map[string]cannedResponse) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := responses[r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s", r.URL.Path)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if c.delay > 0 {
			select {
			case <-time.After(c.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range c.headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClassify(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	c := classifier{now: func() time.Time { return now }, jitter: func() time.Duration { return 2 * time.Second }}
	reset := strconv.FormatInt(now.Add(120*time.Second).Unix(), 10)
	const secondaryDoc = `"documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#secondary-rate-limits"`

	srv := cannedServer(t, map[string]cannedResponse{
		"/api/v3/secondary":         {status: 403, headers: map[string]string{"Retry-After": "30"}, body: `{"message":"You have exceeded a secondary rate limit",` + secondaryDoc + `}`},
		"/api/v3/secondary-no-wait": {status: 403, body: `{"message":"You have exceeded a secondary rate limit",` + secondaryDoc + `}`},
		"/api/v3/too-many":          {status: 429, headers: map[string]string{"Retry-After": "7"}, body: `{"message":"slow down"}`},
		"/api/v3/too-many-date":     {status: 429, headers: map[string]string{"Retry-After": now.Add(90 * time.Second).UTC().Format(http.TimeFormat)}, body: `{}`},
		"/api/v3/primary":           {status: 403, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": reset}, body: `{"message":"API rate limit exceeded"}`},
		"/api/v3/server-error":      {status: 502, body: `{"message":"Server Error"}`},
		"/api/v3/not-found":         {status: 404, body: `{"message":"Not Found"}`},
		"/api/v3/invalid":           {status: 422, body: `{"message":"Validation Failed","errors":[{"resource":"Reference","code":"custom","message":"Reference already exists"}]}`},
		"/api/v3/unauthorized":      {status: 401, body: `{"message":"Bad credentials"}`},
		"/api/v3/forbidden":         {status: 403, body: `{"message":"Resource not accessible by integration"}`},
		"/api/v3/conflict":          {status: 409, body: `{"message":"Head branch was modified"}`},
		"/api/v3/slow":              {status: 200, body: `{}`, delay: time.Second},
		"/api/graphql-502":          {status: 502, body: `<html>bad gateway</html>`},
		"/api/graphql-secondary":    {status: 403, headers: map[string]string{"Retry-After": "45"}, body: `{"message":"You have exceeded a secondary rate limit"}`},
		"/api/graphql-primary":      {status: 200, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, body: `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for installation."}]}`},
		"/api/graphql-forbidden":    {status: 401, body: `{"message":"Bad credentials"}`},
	})

	rest := func(path string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			client := github.NewClient(nil)
			client.BaseURL, _ = url.Parse(srv.URL + "/api/v3/")
			req, err := client.NewRequest(http.MethodGet, path, nil)
			if err != nil {
				return err
			}
			_, err = client.Do(ctx, req, nil)
			return err
		}
	}
	graphQL := func(path string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			client := githubv4.NewEnterpriseClient(srv.URL+path, &http.Client{Transport: &graphQLErrors{next: http.DefaultTransport}})
			var q struct{ Viewer struct{ Login string } }
			return client.Query(ctx, &q, nil)
		}
	}
	refused := func(ctx context.Context) error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		_ = l.Close()
		client := github.NewClient(nil)
		client.BaseURL, _ = url.Parse("http://" + addr + "/")
		_, _, err = client.Users.Get(ctx, "")
		return err
	}

	type want struct {
		retryAfter time.Duration // > 0: a RetryAfter of exactly this
		permanent  int           // > 0: Permanent with this status code
		message    string        // in the permanent error's Message
	}
	cases := []struct {
		name    string
		call    func(context.Context) error
		timeout time.Duration
		want    want
		is      error
	}{
		{"secondary limit with Retry-After", rest("secondary"), 0, want{retryAfter: 30 * time.Second}, nil},
		{"secondary limit without Retry-After", rest("secondary-no-wait"), 0, want{retryAfter: time.Minute}, nil},
		{"429 with Retry-After seconds", rest("too-many"), 0, want{retryAfter: 7 * time.Second}, nil},
		{"429 with Retry-After date", rest("too-many-date"), 0, want{retryAfter: 90 * time.Second}, nil},
		{"primary limit exhausted", rest("primary"), 0, want{retryAfter: 122 * time.Second}, nil},
		{"5xx", rest("server-error"), 0, want{}, nil},
		{"404", rest("not-found"), 0, want{permanent: 404, message: "Not Found"}, nil},
		{"422", rest("invalid"), 0, want{permanent: 422, message: "Validation Failed: Reference already exists"}, nil},
		{"401", rest("unauthorized"), 0, want{permanent: 401, message: "Bad credentials"}, nil},
		{"403 without rate limit", rest("forbidden"), 0, want{permanent: 403, message: "Resource not accessible by integration"}, nil},
		{"409 conflict", rest("conflict"), 0, want{}, nil},
		{"timeout", rest("slow"), 50 * time.Millisecond, want{}, context.DeadlineExceeded},
		{"connection refused", refused, 0, want{}, nil},
		{"GraphQL 502", graphQL("/api/graphql-502"), 0, want{}, nil},
		{"GraphQL secondary limit", graphQL("/api/graphql-secondary"), 0, want{retryAfter: 45 * time.Second}, nil},
		{"GraphQL primary limit", graphQL("/api/graphql-primary"), 0, want{retryAfter: 122 * time.Second}, nil},
		{"GraphQL 401", graphQL("/api/graphql-forbidden"), 0, want{permanent: 401, message: "Bad credentials"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			raw := tc.call(ctx)
			if raw == nil {
				t.Fatal("the call did not fail")
			}
			err := c.classify(fmt.Errorf("doing the thing: %w", raw))
			if !errors.Is(err, raw) {
				t.Errorf("classified error lost the original: %v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v) = false", tc.is)
			}
			var ra retryAfterer
			var pe permanenter
			gotRetry := errors.As(err, &ra)
			gotPermanent := errors.As(err, &pe) && pe.Permanent()
			switch {
			case tc.want.retryAfter > 0:
				if !gotRetry || ra.RetryAfter() != tc.want.retryAfter {
					t.Errorf("want RetryAfter %v, got %v (retry=%v): %v", tc.want.retryAfter, delayOf(ra), gotRetry, err)
				}
				if gotPermanent {
					t.Errorf("a rate limit is permanent: %v", err)
				}
			case tc.want.permanent > 0:
				var perm *PermanentError
				if !errors.As(err, &perm) || perm.StatusCode != tc.want.permanent || perm.Message != tc.want.message {
					t.Errorf("want permanent %d %q, got %#v", tc.want.permanent, tc.want.message, perm)
				}
				if gotRetry {
					t.Errorf("a permanent error has a RetryAfter: %v", err)
				}
				for _, part := range strings.Split(tc.want.message, ": ") {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("GitHub's message %q is not in %q", part, err)
					}
				}
			default:
				if gotRetry || gotPermanent {
					t.Errorf("want a plain retryable error, got %T: %v", err, err)
				}
			}
		})
	}
}

func delayOf(ra retryAfterer) any {
	if ra == nil {
		return nil
	}
	return ra.RetryAfter()
}

func TestClassifyKeepsTypesReachable(t *testing.T) {
	srv := cannedServer(t, map[string]cannedResponse{"/repos/o/r": {status: 404, body: `{"message":"Not Found"}`}})
	client := github.NewClient(nil)
	client.BaseURL, _ = url.Parse(srv.URL + "/")
	_, _, raw := client.Repositories.Get(context.Background(), "o", "r")
	err := Classify(fmt.Errorf("reading repo: %w", raw))
	var resp *github.ErrorResponse
	if !errors.As(err, &resp) || resp.Response.StatusCode != 404 {
		t.Errorf("errors.As(*github.ErrorResponse) fails through Classify: %v", err)
	}
	if again := Classify(err); again != err { //nolint:errorlint // identity is the property under test: no second wrapping
		t.Errorf("classifying twice changed the error: %v", again)
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	plain := errors.New("boom")
	if Classify(plain) != plain { //nolint:errorlint // identity is the property under test: unknown errors pass through untouched
		t.Error("an unknown error was changed")
	}
}

// go-github refuses calls by itself once it saw the limit exhausted; that
// error carries the reset time too.
func TestClassifyPrimaryLimitKnownBeforeTheCall(t *testing.T) {
	reset := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	srv := cannedServer(t, map[string]cannedResponse{"/user": {status: 403, headers: map[string]string{
		"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)},
		body: `{"message":"API rate limit exceeded"}`}})
	client := github.NewClient(nil)
	client.BaseURL, _ = url.Parse(srv.URL + "/")
	_, _, _ = client.Users.Get(context.Background(), "")
	_, _, raw := client.Users.Get(context.Background(), "") // answered without a request
	now := reset.Add(-5 * time.Minute)
	c := classifier{now: func() time.Time { return now }, jitter: func() time.Duration { return time.Second }}
	var ra retryAfterer
	if err := c.classify(raw); !errors.As(err, &ra) || ra.RetryAfter() != 5*time.Minute+time.Second {
		t.Errorf("want RetryAfter 5m1s, got %v", err)
	}
}

func TestDefaultJitterIsSmall(t *testing.T) {
	for range 100 {
		if j := defaultClassifier.jitter(); j < time.Second || j >= 5*time.Second {
			t.Fatalf("jitter %v outside [1s, 5s)", j)
		}
	}
}

func TestClassifyPrimaryLimitWithoutReset(t *testing.T) {
	var ra retryAfterer
	if err := Classify(&github.RateLimitError{}); !errors.As(err, &ra) || ra.RetryAfter() != time.Minute {
		t.Errorf("a rate limit without a reset time gives %v, want a one-minute wait", delayOf(ra))
	}
}
