package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telefonistka/telefonistka/pkg/events"
)

const secret = "It's a Secret to Everybody"

// memStore is an in-memory deliveryStore.
type memStore struct {
	mu     sync.Mutex
	seen   map[string]bool
	stored []*events.Envelope
	bodies map[string][]byte
	fail   error
}

func (m *memStore) Seen(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	return m.seen[id], nil
}

func (m *memStore) Store(_ context.Context, subject string, env *events.Envelope) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if want, err := events.Subject(env); err != nil || subject != want {
		return false, fmt.Errorf("stored on %q, want %q: %w", subject, want, err)
	}
	m.stored = append(m.stored, env)
	return false, nil
}

func (m *memStore) Remember(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[id] = true
	return nil
}

func (m *memStore) PutBody(_ context.Context, id string, body []byte) (*events.BodyRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	if m.bodies == nil {
		m.bodies = map[string][]byte{}
	}
	m.bodies[id] = body
	return &events.BodyRef{Bucket: events.BucketBodies, Name: id, Size: int64(len(body))}, nil
}

func newTestService(t testing.TB, store deliveryStore, maxBody int64) (*Service, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{WebhookSecret: secret, MaxBodyBytes: maxBody, PublishTimeout: 500 * time.Millisecond}
	s, err := NewService(cfg, store, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

const prBody = `{"action":"closed","number":7,"pull_request":{"number":7,"merged":true},"repository":{"name":"gitops.infra","owner":{"login":"acme"}}}`

type req struct {
	event, delivery, contentType, sig256, sig1 string
	body                                       string
	noSig                                      bool
}

func (r req) build() *http.Request {
	hr := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(r.body))
	if r.event != "" {
		hr.Header.Set("X-GitHub-Event", r.event)
	}
	if r.delivery != "" {
		hr.Header.Set("X-GitHub-Delivery", r.delivery)
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	hr.Header.Set("Content-Type", ct)
	switch {
	case r.noSig:
	case r.sig256 != "" || r.sig1 != "":
		if r.sig256 != "" {
			hr.Header.Set("X-Hub-Signature-256", r.sig256)
		}
		if r.sig1 != "" {
			hr.Header.Set("X-Hub-Signature", r.sig1)
		}
	default:
		hr.Header.Set("X-Hub-Signature-256", Sign([]byte(secret), []byte(r.body)))
	}
	hr.Header.Set("User-Agent", "GitHub-Hookshot/test")
	return hr
}

func serve(s *Service, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	s.handler.remembering.Wait()
	return w
}

func TestWebhookValidation(t *testing.T) {
	form := "payload=" + url.QueryEscape(prBody)
	cases := []struct {
		name    string
		req     req
		status  int
		stored  int
		parsing string
	}{
		{"valid", req{event: "pull_request", delivery: "d1", body: prBody}, 202, 1, "successful"},
		{"missing signature", req{event: "pull_request", delivery: "d1", body: prBody, noSig: true}, 401, 0, "validation_failed"},
		{"wrong signature", req{event: "pull_request", delivery: "d1", body: prBody, sig256: Sign([]byte("other"), []byte(prBody))}, 401, 0, "validation_failed"},
		{"signature without prefix", req{event: "pull_request", delivery: "d1", body: prBody, sig256: strings.TrimPrefix(Sign([]byte(secret), []byte(prBody)), "sha256=")}, 401, 0, "validation_failed"},
		{"signature not hex", req{event: "pull_request", delivery: "d1", body: prBody, sig256: "sha256=zz"}, 401, 0, "validation_failed"},
		{"sha1 fallback", req{event: "pull_request", delivery: "d1", body: prBody, sig1: sha1Sig(prBody)}, 202, 1, "successful"},
		{"bad sha256 does not fall back to sha1", req{event: "pull_request", delivery: "d1", body: prBody, sig256: "sha256=00", sig1: sha1Sig(prBody)}, 401, 0, "validation_failed"},
		{"missing event header", req{delivery: "d1", body: prBody}, 400, 0, "parsing_failed"},
		{"missing delivery header", req{event: "pull_request", body: prBody}, 400, 0, "parsing_failed"},
		{"not json", req{event: "pull_request", delivery: "d1", body: "hello"}, 400, 0, "parsing_failed"},
		{"unknown content type", req{event: "pull_request", delivery: "d1", body: prBody, contentType: "text/plain"}, 415, 0, "parsing_failed"},
		{"form encoded", req{event: "pull_request", delivery: "d1", body: form, contentType: "application/x-www-form-urlencoded"}, 202, 1, "successful"},
		{"form without payload", req{event: "pull_request", delivery: "d1", body: "x=1", contentType: "application/x-www-form-urlencoded"}, 400, 0, "parsing_failed"},
		{"ping", req{event: "ping", delivery: "d1", body: `{"zen":"Design for failure."}`}, 200, 0, "successful"},
		{"every GitHub event is stored", req{event: "deployment_review", delivery: "d1", body: `{}`}, 202, 1, "successful"},
		{"an event GitHub does not send", req{event: "pull_request.closed", delivery: "d1", body: prBody}, 400, 0, "parsing_failed"},
		{"an action GitHub does not send", req{event: "pull_request", delivery: "d1", body: `{"action":"*"}`}, 400, 0, "parsing_failed"},
		{"an owner longer than GitHub allows", req{event: "push", delivery: "d1", body: `{"repository":{"name":"r","owner":{"login":"` + strings.Repeat("o", 40) + `"}}}`}, 400, 0, "parsing_failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := &memStore{}
			s, reg := newTestService(t, store, 1<<20)
			w := serve(s, c.req.build())
			if w.Code != c.status {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, c.status)
			}
			if len(store.stored) != c.stored {
				t.Fatalf("stored %d deliveries, want %d", len(store.stored), c.stored)
			}
			if got := testutil.ToFloat64(s.handler.metrics.hits.WithLabelValues(c.parsing)); got != 1 {
				t.Fatalf("telefonistka_webhook_server_webhook_hits_total{parsing=%q} = %v, want 1", c.parsing, got)
			}
			if n, _ := testutil.GatherAndCount(reg, "telefonistka_webhook_server_webhook_hits_total"); n != 1 {
				t.Fatalf("%d hit series, want exactly 1", n)
			}
		})
	}
}

func sha1Sig(body string) string {
	mac := hmacSHA1([]byte(secret), []byte(body))
	return "sha1=" + mac
}

func TestStoredDelivery(t *testing.T) {
	store := &memStore{}
	s, _ := newTestService(t, store, 1<<20)
	r := req{event: "pull_request", delivery: "abc-123", body: prBody}.build()
	r.Header.Set("X-GitHub-Hook-ID", "99")
	r.Header.Set("Connection", "keep-alive")
	r.Header.Set("Authorization", "Basic dTpw")
	r.Header.Set("Cookie", "session=1")
	r.Header.Set("X-Api-Key", "k")
	if w := serve(s, r); w.Code != 202 {
		t.Fatalf("status %d", w.Code)
	}
	env := store.stored[0]
	var d events.GitHubDelivery
	if err := env.DecodeData(&d); err != nil {
		t.Fatal(err)
	}
	if env.ID != "abc-123" || env.CorrelationID != "abc-123" || env.Repo.String() != "acme/gitops.infra" || env.PR != 7 {
		t.Fatalf("envelope = %+v", env)
	}
	if d.Event != "pull_request" || d.Action != "closed" || !bytes.Equal(d.Body, []byte(prBody)) {
		t.Fatalf("delivery = %+v", d)
	}
	if d.Headers["X-Github-Hook-Id"] != "99" || d.Headers["X-Hub-Signature-256"] == "" || d.Headers["User-Agent"] != "GitHub-Hookshot/test" {
		t.Fatalf("headers = %v", d.Headers)
	}
	for _, h := range []string{"Connection", "Authorization", "Cookie", "X-Api-Key"} {
		if _, ok := d.Headers[h]; ok {
			t.Fatalf("header %s stored", h)
		}
	}
	subject, _ := events.Subject(env)
	if subject != "github.pull_request.closed.acme.gitops%2Einfra" {
		t.Fatalf("subject = %s", subject)
	}
}

func TestBodyLimit(t *testing.T) {
	store := &memStore{}
	s, _ := newTestService(t, store, 100)
	small := `{"action":"x"}`
	if w := serve(s, req{event: "push", delivery: "1", body: small}.build()); w.Code != 202 {
		t.Fatalf("small body: %d", w.Code)
	}
	big := `{"pad":"` + strings.Repeat("x", 100) + `"}`
	if w := serve(s, req{event: "push", delivery: "2", body: big}.build()); w.Code != 413 {
		t.Fatalf("big body: %d, want 413", w.Code)
	}
	if len(store.stored) != 1 {
		t.Fatalf("stored %d", len(store.stored))
	}
}

func TestDuplicateDeliveryIsNotStoredTwice(t *testing.T) {
	store := &memStore{}
	s, _ := newTestService(t, store, 1<<20)
	for i, want := range []int{202, 200, 200} {
		if w := serve(s, req{event: "push", delivery: "same", body: `{}`}.build()); w.Code != want {
			t.Fatalf("attempt %d: %d, want %d", i, w.Code, want)
		}
	}
	if len(store.stored) != 1 {
		t.Fatalf("stored %d times", len(store.stored))
	}
}

func TestBusDownIs503(t *testing.T) {
	store := &memStore{fail: errors.New("nats: timeout")}
	s, _ := newTestService(t, store, 1<<20)
	if w := serve(s, req{event: "push", delivery: "x", body: `{}`}.build()); w.Code != 503 {
		t.Fatalf("status %d, want 503", w.Code)
	}
}

func TestConfigRequiresSecret(t *testing.T) {
	if err := (Config{MaxBodyBytes: 1, PublishTimeout: time.Second}).Validate(); err == nil {
		t.Fatal("empty secret accepted")
	}
	c := Config{WebhookSecret: "hunter2", MaxBodyBytes: 1, PublishTimeout: time.Second}
	if strings.Contains(c.String(), "hunter2") {
		t.Fatal("secret printed")
	}
}

func FuzzWebhook(f *testing.F) {
	f.Add("pull_request", "d", "application/json", prBody, true)
	f.Add("push", "d", "application/x-www-form-urlencoded", "payload=%7B%7D", true)
	f.Add("", "", "text/plain", "\x00\xff", false)
	f.Add("issue_comment", "d", "application/json; charset=utf-8", `{"repository":{"owner":{}}}`, true)
	f.Add("pull_request", "d", "application/json", `{"pull_request":null,"issue":{"number":"x"}}`, true)
	f.Fuzz(func(t *testing.T, event, delivery, ct, body string, sign bool) {
		s, _ := newTestService(t, &memStore{}, 1<<16)
		r := req{event: event, delivery: delivery, contentType: ct, body: body, noSig: !sign}.build()
		if !sign {
			r.Header.Set("X-Hub-Signature-256", "sha256=deadbeef")
		}
		w := serve(s, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for event %q ct %q body %q", w.Code, event, ct, body)
		}
	})
}

// FuzzSubjectBoundValues sends signed deliveries whose event, action, owner
// and repository name are arbitrary: each is refused with 400, or stored on
// a subject of five tokens, short enough for NATS, that give back the values.
func FuzzSubjectBoundValues(f *testing.F) {
	f.Add("pull_request", "closed", "acme", "gitops.infra")
	f.Add(strings.Repeat("e", 5000), "closed", "acme", "gitops")
	f.Add("push", strings.Repeat("a", 5000), "acme", "gitops")
	f.Add("push", "", strings.Repeat("o", 40), strings.Repeat("r", 101))
	f.Add("issue_comment", "created", "a-b_c", "..")
	f.Add("pull_request", "ready_for_review", "x", "a*b>c d")
	f.Fuzz(func(t *testing.T, event, action, owner, name string) {
		store := &memStore{}
		s, _ := newTestService(t, store, 1<<20)
		body, err := json.Marshal(map[string]any{"action": action, "repository": map[string]any{"name": name, "owner": map[string]any{"login": owner}}})
		if err != nil {
			t.Skip()
		}
		w := serve(s, req{event: event, delivery: "d", body: string(body)}.build())
		switch w.Code {
		case 400:
			if len(store.stored) != 0 {
				t.Fatal("refused but stored")
			}
			return
		case 200, 202:
		default:
			t.Fatalf("status %d for event %q action %q repo %q/%q", w.Code, event, action, owner, name)
		}
		if event == "ping" {
			return
		}
		subject, err := events.Subject(store.stored[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(subject) > 1024 {
			t.Fatalf("subject of %d bytes accepted", len(subject))
		}
		tokens := strings.Split(subject, ".")
		if len(tokens) != 5 {
			t.Fatalf("subject %q has %d tokens", subject, len(tokens))
		}
		want := []string{"github", event, action, owner, name}
		if name == "" {
			want[3], want[4] = "", ""
		}
		for i, tok := range tokens[1:] {
			if got, err := events.UnescapeToken(tok); err != nil || got != want[i+1] {
				t.Fatalf("token %d of %q = %q (%v), want %q", i+1, subject, got, err, want[i+1])
			}
		}
	})
}

// slowRecordStore records a delivery id only once released.
type slowRecordStore struct {
	memStore
	release chan struct{}
}

func (s *slowRecordStore) Remember(ctx context.Context, id string) error {
	<-s.release
	return s.memStore.Remember(ctx, id)
}

// GitHub has its answer before the delivery id is recorded for later
// redeliveries (one JetStream round trip fewer on the answer's path), the
// handler returns without waiting for the record (so the next request on a
// kept-alive connection does not wait either), and the id is recorded all
// the same.
func TestAnswerPrecedesRecordingTheDeliveryID(t *testing.T) {
	store := &slowRecordStore{release: make(chan struct{})}
	s, _ := newTestService(t, store, 1<<20)
	w := httptest.NewRecorder()
	returned := make(chan struct{})
	go func() {
		s.handler.ServeHTTP(w, req{event: "push", delivery: "d", body: `{}`}.build())
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler waits for the delivery id to be recorded")
	}
	if w.Code != 202 {
		t.Fatalf("status %d", w.Code)
	}
	if got := w.Header().Get("Content-Length"); got != fmt.Sprint(len("accepted\n")) {
		t.Fatalf("Content-Length %q", got)
	}
	close(store.release)
	s.handler.remembering.Wait()
	if !store.seen["d"] {
		t.Fatal("delivery id not recorded")
	}
}
