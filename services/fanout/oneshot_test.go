package fanout

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// ForwardPush (the `event` command) applies the same rules synchronously
// and sends only Content-Type and X-GitHub-Event.
func TestForwardPush(t *testing.T) {
	gh := newGitHub(t)
	h := &harness{t: t, gh: gh}
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, _ *http.Request) {
		switch {
		case path == "/flaky" && n == 1:
			w.WriteHeader(http.StatusBadGateway)
		case path == "/missing":
			w.WriteHeader(http.StatusNotFound)
		}
	})
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%[1]s/flaky', '%[1]s/missing', '%[1]s/ok', 'http://elsewhere.example.net/x']}]", rc.srv.URL))
	cfg := testConfig()
	var err error
	if cfg.AllowedURLs, err = ParseURLPattern(strings.ReplaceAll(rc.srv.URL, ".", `\.`) + "/.*"); err != nil {
		t.Fatal(err)
	}
	body := pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil))
	got, err := ForwardPush(context.Background(), cfg, gh, prometheus.NewRegistry(), testLog(), body)
	if err != nil {
		t.Fatal(err)
	}
	want := []EndpointResult{
		{URL: rc.srv.URL + "/flaky", Outcome: "delivered", StatusCode: 200, Attempts: 2},
		{URL: rc.srv.URL + "/missing", Outcome: "failed", StatusCode: 404, Attempts: 1, Error: "endpoint answered 404 Not Found"},
		{URL: rc.srv.URL + "/ok", Outcome: "delivered", StatusCode: 200, Attempts: 1},
		{URL: "http://elsewhere.example.net/x", Outcome: "rejected", Error: "URL does not fully match FANOUT_ALLOWED_URL_REGEX"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("results\n got %+v\nwant %+v", got, want)
	}
	c := rc.callsTo("/ok")[0]
	if string(c.Body) != string(body) || c.Header.Get("Content-Type") != "application/json" || c.Header.Get("X-GitHub-Event") != "push" || c.Header.Get("X-Hub-Signature-256") != "" {
		t.Fatalf("request %v %q", c.Header, c.Body)
	}

	other, err := ForwardPush(context.Background(), cfg, gh, nil, testLog(), pushBody("refs/heads/dev", "main", sha, files([]string{"a/x"}, nil, nil)))
	if err != nil || other != nil {
		t.Fatalf("push to another branch: %v, %v", other, err)
	}
}
