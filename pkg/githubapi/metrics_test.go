package githubapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOperationLabels(t *testing.T) {
	cases := []struct {
		path                 string
		group, apiPath, slug string
	}{
		{"/api/v3/user", "user", "", ""},
		{"/user", "user", "", ""},
		{"/repos/o/r/pulls/33", "repos", "pulls", "o/r"},
		{"/api/v3/repos/o/r/pulls/33", "repos", "pulls", "o/r"},
		{"/api/v3/repos/o/r/git/trees/abc", "repos", "git", "o/r"},
		{"/repos/o/r", "repos", "", "o/r"},
		{"/repos/o/r/", "repos", "", "o/r"},
		{"/app/installations", "app", "", ""},
		{"/app/installations/21/access_tokens", "app", "access_tokens", "installations/21"},
		{"/orgs/acme/repos", "orgs", "", "acme/repos"},
		{"/graphql", "graphql", "", ""},
		{"/api/graphql", "graphql", "", ""},
		{"/prefix/api/v3/repos/o/r/issues/1/comments", "repos", "issues", "o/r"},
		{"/api/v3", "", "", ""},
		{"/", "", "", ""},
		{"", "", "", ""},
		{"/api/v3x/foo", "api", "", "v3x/foo"},
	}
	for _, tc := range cases {
		g, p, s := OperationLabels(tc.path)
		if g != tc.group || p != tc.apiPath || s != tc.slug {
			t.Errorf("OperationLabels(%q) = (%q, %q, %q), want (%q, %q, %q)", tc.path, g, p, s, tc.group, tc.apiPath, tc.slug)
		}
	}
}

func FuzzOperationLabels(f *testing.F) {
	for _, seed := range []string{"/api/v3/user", "/repos/o/r/pulls/33", "/api/graphql", "//", "/api/v3/api/v3/x", "a/b/c/d/e"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		group, apiPath, slug := OperationLabels(path)
		if slug != "" && strings.Count(slug, "/") < 1 {
			t.Errorf("slug %q has no /", slug)
		}
		if apiPath != "" && slug == "" {
			t.Errorf("api_path %q without a slug", apiPath)
		}
		for _, l := range []string{group, apiPath} {
			if strings.Contains(l, "/") {
				t.Errorf("label %q holds a /", l)
			}
		}
	})
}

func TestInstrumentedTransport(t *testing.T) {
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	headers := http.Header{}
	headers.Set("X-RateLimit-Limit", "15000")
	headers.Set("X-RateLimit-Remaining", "14000")
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/api/v3/down" {
			return nil, errors.New("connection refused")
		}
		return &http.Response{StatusCode: 404, Header: headers, Body: http.NoBody}, nil
	})
	tr := &instrumentedTransport{next: next, metrics: m, owner: "acme"}
	req, _ := http.NewRequest(http.MethodPatch, "https://ghe.example.com/api/v3/repos/acme/gitops/pulls/7", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	down, _ := http.NewRequest(http.MethodGet, "https://ghe.example.com/api/v3/down", nil)
	if _, err := tr.RoundTrip(down); err == nil {
		t.Fatal("transport error swallowed")
	}
	if got := testutil.ToFloat64(m.operations.WithLabelValues("repos", "pulls", "acme/gitops", "404", "PATCH")); got != 1 {
		t.Errorf("operations = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.operations.WithLabelValues("down", "", "", "error", "GET")); got != 1 {
		t.Errorf("failed call counted %v times, want 1 with status error", got)
	}
	if got := testutil.ToFloat64(m.rateLimit.WithLabelValues("acme")); got != 15000 {
		t.Errorf("rate limit = %v", got)
	}
	if got := testutil.ToFloat64(m.rateRemaining.WithLabelValues("acme")); got != 14000 {
		t.Errorf("rate remaining = %v", got)
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg) // a second service in the same process
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	a.operations.WithLabelValues("user", "", "", "200", "GET").Inc()
	b.operations.WithLabelValues("user", "", "", "200", "GET").Inc()
	b.statusUpdates.WithLabelValues("o/r", "success").Inc()
	b.rateLimit.WithLabelValues("o").Set(1)
	b.rateRemaining.WithLabelValues("o").Set(1)
	want := `
# HELP telefonistka_github_github_operations_total The total number of GitHub API calls, by API group, path, repo, HTTP status and method.
# TYPE telefonistka_github_github_operations_total counter
telefonistka_github_github_operations_total{api_group="user",api_path="",method="GET",repo_slug="",status="200"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "telefonistka_github_github_operations_total"); err != nil {
		t.Error(err)
	}
	names := map[string]bool{}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{
		"telefonistka_github_github_operations_total",
		"telefonistka_github_github_rest_api_client_rate_limit",
		"telefonistka_github_github_rest_api_client_rate_remaining",
		"telefonistka_github_commit_status_updates_total",
	} {
		if !names[n] {
			t.Errorf("metric %s not registered", n)
		}
	}
	if n, _ := testutil.GatherAndCount(prometheus.DefaultGatherer, "telefonistka_github_github_operations_total"); n != 0 {
		t.Error("metrics landed on the global registry")
	}
}

func BenchmarkInstrumentedTransport(b *testing.B) {
	m, _ := NewMetrics(nil)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Remaining": {"4999"}, "X-Ratelimit-Limit": {"5000"}}, Body: http.NoBody}
	tr := &instrumentedTransport{next: roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil }), metrics: m, owner: "o"}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r/pulls/33", nil)
	for b.Loop() {
		_, _ = tr.RoundTrip(req)
	}
}
