package fanout

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/fanout/internal/forward"
	"github.com/telefonistka/telefonistka/services/fanout/internal/targets"
)

// EndpointResult is what happened to one endpoint in ForwardPush.
type EndpointResult struct {
	// URL is the endpoint without user info, query values redacted.
	URL string
	// Outcome is "delivered", "failed" or "rejected".
	Outcome    string
	StatusCode int
	Attempts   int
	// Error says why the endpoint failed or was rejected.
	Error string
}

// ForwardPush handles one push event synchronously, without NATS, for
// `telefonistka event` (GitHub Actions mode): the same trigger, rules,
// checks and limits as the service, but retries wait in process, and the
// body is sent with only Content-Type: application/json and
// X-GitHub-Event: push (the Actions event file is not a signed delivery).
// It returns one result per endpoint, sorted by URL; the error is for a
// push or configuration that could not be read.
func ForwardPush(ctx context.Context, cfg Config, gh GitHub, reg prometheus.Registerer, log *slog.Logger, body []byte) ([]EndpointResult, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{"Content-Type": "application/json", "X-GitHub-Event": "push"}
	p, err := parsePush(&events.GitHubDelivery{Event: "push", Headers: headers, Body: body})
	if err != nil {
		return nil, err
	}
	if !p.forwardable() || len(p.Files) == 0 {
		log.Info("push is not an update of the default branch with changed files; nothing to forward", "ref", p.Ref)
		return nil, nil
	}
	rc, err := readConfig(ctx, gh, p.Repo, p.After)
	if err != nil {
		return nil, err
	}
	sel := targets.Select(rc, p.Files, cfg.Policy())
	var results []EndpointResult
	for _, r := range sel.Rejected {
		m.rejected(r.URL)
		log.Warn("endpoint refused; not called", "url", targets.Redact(r.URL), "reason", r.Reason)
		results = append(results, EndpointResult{URL: targets.Redact(r.URL), Outcome: "rejected", Error: "URL " + r.Reason})
	}
	client := forward.NewClient(cfg.Timeout, cfg.Concurrency, cfg.AllowLocalAddresses)
	defer client.Close()
	out := make([]EndpointResult, len(sel.Accepted))
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i, u := range sel.Accepted {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := forward.Request{URL: u, Headers: headers, Body: body, SkipTLSVerify: rc.WhProxtSkipTLSVerifyUpstream}
			out[i] = forwardWithRetries(ctx, cfg, client, m, sem, req)
			log.Info("endpoint handled", "url", out[i].URL, "outcome", out[i].Outcome, "status", out[i].StatusCode, "attempts", out[i].Attempts)
		}()
	}
	wg.Wait()
	results = append(results, out...)
	sortResults(results)
	return results, nil
}

// forwardWithRetries makes up to MaxAttempts attempts, holding a slot of
// sem only while an attempt runs.
func forwardWithRetries(ctx context.Context, cfg Config, c *forward.Client, m *metrics, sem chan struct{}, req forward.Request) EndpointResult {
	res := EndpointResult{URL: targets.Redact(req.URL)}
	for attempt := 1; ; attempt++ {
		sem <- struct{}{}
		o := c.Send(ctx, req)
		<-sem
		m.attempt(req.URL, o)
		res.Attempts, res.StatusCode = attempt, o.StatusCode
		if o.Delivered() {
			res.Outcome, res.Error = "delivered", ""
			return res
		}
		res.Outcome, res.Error = "failed", o.Err.Error()
		if !o.Retryable || attempt >= cfg.MaxAttempts {
			return res
		}
		select {
		case <-time.After(forward.RetryDelay(o, cfg.RetryBase, attempt)):
		case <-ctx.Done():
			res.Error = ctx.Err().Error()
			return res
		}
	}
}

func sortResults(rs []EndpointResult) {
	slices.SortFunc(rs, func(a, b EndpointResult) int { return strings.Compare(a.URL, b.URL) })
}
