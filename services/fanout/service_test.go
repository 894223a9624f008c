package fanout

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

func files(added, modified, removed []string) [3][]string {
	return [3][]string{added, modified, removed}
}

// The receiver gets the original body byte for byte and every original
// header, so it verifies the signature with the shared secret.
func TestForwardsBodyAndHeadersVerbatim(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf(`
webhookEndpointRegexs:
  - expression: "^clusters/([^/]+)/"
    replacements: ["%[1]s/argocd/$1", "%[1]s/appset/$1"]
`, rc.srv.URL))
	body := pushBody("refs/heads/trunk", "trunk", sha, files([]string{"clusters/eu/app.yaml"}, nil, nil))
	// Whitespace and key order a re-encoding would change.
	body = append(bytes.Replace(body, []byte(`"after"`), []byte("  \"after\" "), 1), '\n', ' ')
	h.deliver("d-verbatim", body, map[string]string{"X-Custom-Header": "kept as is", "Connection": "close"})

	delivered := h.waitEvents(events.TypeFanoutDelivered, 2, 20*time.Second)
	for _, path := range []string{"/argocd/eu", "/appset/eu"} {
		calls := rc.callsTo(path)
		if len(calls) != 1 {
			t.Fatalf("%s called %d times, want 1", path, len(calls))
		}
		c := calls[0]
		if !bytes.Equal(c.Body, body) {
			t.Errorf("%s: body differs:\n got %q\nwant %q", path, c.Body, body)
		}
		if !verifies(c.Header, c.Body) {
			t.Errorf("%s: signature does not verify", path)
		}
		for k, v := range map[string]string{
			"X-Github-Event": "push", "X-Github-Delivery": "d-verbatim", "X-Github-Hook-Id": "4242",
			"User-Agent": "GitHub-Hookshot/7a3c2e1", "Content-Type": "application/json", "X-Custom-Header": "kept as is",
			"Content-Length": fmt.Sprint(len(body)),
		} {
			if got := c.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", path, k, got, v)
			}
		}
		if c.Header.Get("Connection") != "" {
			t.Errorf("%s: hop-by-hop Connection header forwarded", path)
		}
		if h.counter("200", rc.srv.URL+path) != 1 {
			t.Errorf("%s: metric status=200 not counted once", path)
		}
	}
	for _, env := range delivered {
		d := decode[events.FanoutDelivered](t, env)
		if d.DeliveryID != "d-verbatim" || d.StatusCode != 200 || d.Attempts != 1 || env.CorrelationID != "d-verbatim" || env.Repo == nil || *env.Repo != repo {
			t.Errorf("delivered event %+v in %+v", d, env)
		}
	}
}

// Each file's first matching rule contributes all its replacements; rules
// matching no file contribute nothing; an endpoint several files reach is
// called once.
func TestRuleMatchingAndExpansion(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf(`
webhookEndpointRegexs:
  - expression: "^nothing-matches-this/"
    replacements: ["%[1]s/never"]
  - expression: "^clusters/(?P<cluster>[^/]+)/apps/"
    replacements: ["%[1]s/apps/${cluster}", "%[1]s/all"]
  - expression: "^clusters/([^/]+)/"
    replacements: ["%[1]s/other/${1}x"]
  - expression: "^docs/"
    replacements: ["%[1]s/docs"]
`, rc.srv.URL))
	body := pushBody("refs/heads/main", "main", sha,
		files([]string{"clusters/eu/apps/a.yaml"}, []string{"clusters/eu/apps/b.yaml"}, nil),
		files(nil, []string{"clusters/us/apps/c.yaml", "clusters/us/infra/d.yaml"}, []string{"clusters/eu/apps/a.yaml"}),
		files(nil, nil, []string{"README.md"}))
	seq := h.deliver("d-rules", body, nil)

	h.waitEvents(events.TypeFanoutDelivered, 4, 20*time.Second)
	h.waitIdle(events.StreamGitHub, PushConsumer, seq)
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	want := map[string]int{"/apps/eu": 1, "/apps/us": 1, "/all": 1, "/other/usx": 1}
	if got := rc.paths(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls per path %v, want %v", got, want)
	}
	if n := h.jobCount(); n != 4 {
		t.Fatalf("%d jobs published, want 4", n)
	}
}

// A receiver failing twice and then succeeding gets the delivery exactly
// once more: three attempts, made through JetStream redelivery.
func TestRetriesThroughJetStreamUntilSuccess(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, func(_ string, n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/flaky']}]", rc.srv.URL))
	h.deliver("d-flaky", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)

	env := h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)[0]
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	if d := decode[events.FanoutDelivered](t, env); d.Attempts != 3 || d.StatusCode != 200 {
		t.Fatalf("delivered after %d attempts with %d, want 3 attempts ending in 200", d.Attempts, d.StatusCode)
	}
	calls := rc.callsTo("/flaky")
	if len(calls) != 3 {
		t.Fatalf("receiver called %d times, want 3", len(calls))
	}
	// Backoff: 50ms then 100ms in this test's configuration.
	if gap := calls[1].At.Sub(calls[0].At); gap < 40*time.Millisecond {
		t.Errorf("first retry after %v, want the backoff", gap)
	}
	if gap := calls[2].At.Sub(calls[1].At); gap < 90*time.Millisecond {
		t.Errorf("second retry after %v, want a doubled backoff", gap)
	}
	url := rc.srv.URL + "/flaky"
	if h.counter("503", url) != 2 || h.counter("200", url) != 1 {
		t.Errorf("metrics: 503=%v 200=%v, want 2 and 1", h.counter("503", url), h.counter("200", url))
	}
	select {
	case env := <-h.events:
		if env.Type == events.TypeFanoutFailed {
			t.Fatalf("unexpected failure event: %s", env.Data)
		}
	default:
	}
}

// Retry-After is honoured for 429.
func TestHonoursRetryAfter(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, func(_ string, n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/limited']}]", rc.srv.URL))
	h.deliver("d-429", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
	calls := rc.callsTo("/limited")
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v despite Retry-After: 1", gap)
	}
}

// 4xx answers are final; retryable failures stop after FANOUT_MAX_ATTEMPTS.
func TestGivesUp(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, func(path string, _ int, w http.ResponseWriter, _ *http.Request) {
		if path == "/gone" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	})
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%[1]s/gone', '%[1]s/broken']}]", rc.srv.URL))
	h.deliver("d-fail", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)
	failed := h.waitEvents(events.TypeFanoutFailed, 2, 20*time.Second)
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	got := map[string]*events.FanoutFailed{}
	for _, env := range failed {
		f := decode[events.FanoutFailed](t, env)
		got[strings.TrimPrefix(f.URL, rc.srv.URL)] = f
	}
	if f := got["/gone"]; f == nil || f.Reason != events.FanoutFailedStatus || f.Attempts != 1 || f.StatusCode != 404 {
		t.Errorf("404 endpoint: %+v", f)
	}
	if f := got["/broken"]; f == nil || f.Reason != events.FanoutFailedAttempts || f.Attempts != 3 || f.StatusCode != 502 {
		t.Errorf("502 endpoint: %+v", f)
	}
	if want := map[string]int{"/gone": 1, "/broken": 3}; fmt.Sprint(rc.paths()) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", rc.paths(), want)
	}
}

// A receiver that hangs does not delay the others, even with fewer workers
// than endpoints.
func TestHangingReceiverDoesNotDelayOthers(t *testing.T) {
	cfg := testConfig()
	cfg.Concurrency = 2
	h := start(t, cfg)
	release := make(chan struct{})
	rc := newReceiver(t, func(path string, _ int, _ http.ResponseWriter, r *http.Request) {
		if path == "/hang" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	sha := h.config(fmt.Sprintf(`webhookEndpointRegexs:
  - expression: '^a/'
    replacements: ['%[1]s/hang', '%[1]s/q1', '%[1]s/q2', '%[1]s/q3', '%[1]s/q4', '%[1]s/q5', '%[1]s/q6']`, rc.srv.URL))
	h.deliver("d-hang", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)

	// All six quick endpoints are delivered while /hang is still held.
	delivered := h.waitEvents(events.TypeFanoutDelivered, 6, 20*time.Second)
	var urls []string
	for _, env := range delivered {
		urls = append(urls, strings.TrimPrefix(decode[events.FanoutDelivered](t, env).URL, rc.srv.URL))
	}
	sort.Strings(urls)
	if fmt.Sprint(urls) != "[/q1 /q2 /q3 /q4 /q5 /q6]" {
		t.Fatalf("delivered %v", urls)
	}
	close(release)
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
}

// FANOUT_ALLOWED_URL_REGEX refuses URLs it does not fully match: they are
// never called, counted as rejected and reported.
func TestAllowlistRefusesURLs(t *testing.T) {
	allowed := newReceiver(t, nil)
	other := newReceiver(t, nil)
	cfg := testConfig()
	var err error
	if cfg.AllowedURLs, err = ParseURLPattern(strings.ReplaceAll(allowed.srv.URL, ".", `\.`) + "/.*"); err != nil {
		t.Fatal(err)
	}
	h := start(t, cfg)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/ok', '%s/nope', '%s/ok/suffix?x=%s/']}]",
		allowed.srv.URL, other.srv.URL, other.srv.URL, allowed.srv.URL))
	seq := h.deliver("d-allow", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)

	rejected := h.waitEvents(events.TypeFanoutRejected, 2, 20*time.Second)
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
	h.waitIdle(events.StreamGitHub, PushConsumer, seq)
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	if n := len(other.paths()); n != 0 {
		t.Fatalf("refused receiver was called: %v", other.paths())
	}
	if got := allowed.paths(); got["/ok"] != 1 || len(got) != 1 {
		t.Fatalf("allowed receiver calls %v", got)
	}
	for _, env := range rejected {
		r := decode[events.FanoutRejected](t, env)
		if !strings.HasPrefix(r.URL, other.srv.URL) || r.Reason != "URL does not fully match FANOUT_ALLOWED_URL_REGEX" || r.Commit != sha {
			t.Errorf("rejected event %+v", r)
		}
		if h.counter("rejected", r.URL) != 1 {
			t.Errorf("rejected %s not counted", r.URL)
		}
	}
}

// Pushes to other branches, tags and branch deletions are ignored without
// reading the configuration.
func TestIgnoresPushesOutsideTheDefaultBranch(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/hook']}]", rc.srv.URL))
	f := files([]string{"a/x"}, nil, nil)
	deleted := bytes.Replace(pushBody("refs/heads/main", "main", zeroSHA, f), []byte(`"deleted":false`), []byte(`"deleted":true`), 1)
	h.deliver("d-feature", pushBody("refs/heads/feature", "main", sha, f), nil)
	h.deliver("d-tag", pushBody("refs/tags/main", "main", sha, f), nil)
	h.deliver("d-prefix", pushBody("refs/heads/main-2", "main", sha, f), nil)
	seq := h.deliver("d-deleted", deleted, nil)
	h.waitIdle(events.StreamGitHub, PushConsumer, seq)
	if n := h.configReads(); n != 0 {
		t.Fatalf("configuration read %d times for ignored pushes", n)
	}
	if n := h.jobCount(); n != 0 {
		t.Fatalf("%d jobs published for ignored pushes", n)
	}
	if len(rc.paths()) != 0 {
		t.Fatal("receiver called for an ignored push")
	}
}
