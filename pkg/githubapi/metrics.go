package githubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the GitHub client metrics with the original names and labels.
type Metrics struct {
	operations    *prometheus.CounterVec
	rateLimit     *prometheus.GaugeVec
	rateRemaining *prometheus.GaugeVec
	statusUpdates *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg. A nil reg
// registers nothing (the metrics still count, for tests). If reg already
// holds metrics of the same names (several services in one process), those
// are shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telefonistka", Subsystem: "github", Name: "github_operations_total",
			Help: "The total number of GitHub API calls, by API group, path, repo, HTTP status and method.",
		}, []string{"api_group", "api_path", "repo_slug", "status", "method"}),
		rateLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "telefonistka", Subsystem: "github", Name: "github_rest_api_client_rate_limit",
			Help: "The number of requests per hour the client is limited to, from the last response.",
		}, []string{"repo_owner"}),
		rateRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "telefonistka", Subsystem: "github", Name: "github_rest_api_client_rate_remaining",
			Help: "The number of requests left in the current rate-limit window, from the last response.",
		}, []string{"repo_owner"}),
		statusUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telefonistka", Subsystem: "github", Name: "commit_status_updates_total",
			Help: "The total number of commit status updates, by state (pending/success/error/failure).",
		}, []string{"repo_slug", "status"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.operations, err = register(reg, m.operations); err != nil {
		return nil, err
	}
	if m.rateLimit, err = register(reg, m.rateLimit); err != nil {
		return nil, err
	}
	if m.rateRemaining, err = register(reg, m.rateRemaining); err != nil {
		return nil, err
	}
	if m.statusUpdates, err = register(reg, m.statusUpdates); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector reg already holds under
// the same description.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("registering github metrics: %w", err)
}

// OperationLabels derives the api_group, api_path and repo_slug labels of
// one call from its URL path. Everything up to and including /api/v3 is
// dropped (a GITHUB_URL may put a prefix before it); then the group is the
// first segment, with three or more segments the slug is "seg2/seg3", and
// with four or more the path is seg4. GraphQL calls are group "graphql"
// with empty path and slug.
func OperationLabels(path string) (apiGroup, apiPath, repoSlug string) {
	if isGraphQL(path) {
		return "graphql", "", ""
	}
	if i := strings.Index(path, "/api/v3"); i >= 0 {
		if rest := path[i+len("/api/v3"):]; rest == "" || rest[0] == '/' {
			path = rest
		}
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	apiGroup = segs[0]
	if len(segs) >= 3 {
		repoSlug = segs[1] + "/" + segs[2]
	}
	if len(segs) >= 4 {
		apiPath = segs[3]
	}
	return apiGroup, apiPath, repoSlug
}

// instrumentedTransport counts every call and records the rate-limit
// headers of every response under the owner the client serves.
type instrumentedTransport struct {
	next    http.RoundTripper
	metrics *Metrics
	owner   string
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if resp != nil {
		status = strconv.Itoa(resp.StatusCode)
		t.metrics.observeRate(t.owner, resp.Header)
	}
	group, path, slug := OperationLabels(req.URL.Path)
	t.metrics.operations.WithLabelValues(group, path, slug, status, req.Method).Inc()
	return resp, err
}

// observeRate copies X-RateLimit-Limit and X-RateLimit-Remaining into the gauges.
func (m *Metrics) observeRate(owner string, h http.Header) {
	if owner == "" {
		return
	}
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Limit"), 64); err == nil {
		m.rateLimit.WithLabelValues(owner).Set(v)
	}
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Remaining"), 64); err == nil {
		m.rateRemaining.WithLabelValues(owner).Set(v)
	}
}

// budgetCollector reports a Budget's levels at each scrape.
type budgetCollector struct {
	budget    Budget
	remaining *prometheus.Desc
	paused    *prometheus.Desc
}

func newBudgetCollector(b Budget) *budgetCollector {
	return &budgetCollector{
		budget: b,
		remaining: prometheus.NewDesc("telefonistka_github_write_budget_remaining",
			"Content-creating GitHub calls an identity (installation or token) could make at once now, out of GITHUB_WRITE_BURST; shared by every replica when the budget is kept in JetStream.",
			[]string{"budget"}, nil),
		paused: prometheus.NewDesc("telefonistka_github_write_budget_paused_seconds",
			"How long every call of an identity is still held because GitHub answered with a rate limit.",
			[]string{"budget"}, nil),
	}
}

func (c *budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.remaining
	ch <- c.paused
}

func (c *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, lv := range c.budget.Levels() {
		ch <- prometheus.MustNewConstMetric(c.remaining, prometheus.GaugeValue, lv.Remaining, lv.Key)
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, lv.Paused.Seconds(), lv.Key)
	}
}
