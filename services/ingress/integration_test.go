package ingress

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

type liveIngress struct {
	srv  *bustest.Server
	conn *bus.Conn
	url  string
}

func startIngress(t *testing.T, window time.Duration) *liveIngress {
	t.Helper()
	t.Setenv("GITHUB_WEBHOOK_SECRET", secret)
	t.Setenv("INGRESS_PUBLISH_TIMEOUT", "500ms")
	srv := bustest.StartWithWindow(t, window)
	conn := srv.Connect()
	env := &app.Env{Conn: conn, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()}
	svc, err := New(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	svc.(app.RouteMounter).Routes(r)
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	return &liveIngress{srv: srv, conn: conn, url: hs.URL + "/webhook"}
}

func (l *liveIngress) post(t *testing.T, delivery, body string) int {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, l.url, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-GitHub-Event", "pull_request")
	r.Header.Set("X-GitHub-Delivery", delivery)
	r.Header.Set("X-Hub-Signature-256", Sign([]byte(secret), []byte(body)))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (l *liveIngress) stored(t *testing.T) uint64 {
	t.Helper()
	st, err := l.conn.JS.Stream(context.Background(), events.StreamGitHub)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// A delivery GitHub sends again is stored once: within JetStream's duplicate
// window, and also after it has passed (the KV record remembers it).
func TestRedeliveryAfterDuplicateWindow(t *testing.T) {
	l := startIngress(t, time.Second)
	if got := l.post(t, "d-1", prBody); got != 202 {
		t.Fatalf("first delivery: %d", got)
	}
	if got := l.post(t, "d-1", prBody); got != 200 {
		t.Fatalf("immediate redelivery: %d, want 200", got)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := l.post(t, "d-1", prBody); got != 200 {
		t.Fatalf("redelivery after the window: %d, want 200", got)
	}
	if n := l.stored(t); n != 1 {
		t.Fatalf("stream holds %d messages, want 1", n)
	}
	// The window has really passed: JetStream alone would accept the id again.
	env, _ := events.New(events.Meta{ID: "d-1", Source: "test"}, &events.GitHubDelivery{DeliveryID: "d-1", Event: "x", Headers: map[string]string{}, Body: []byte("{}")})
	res, err := (bus.Publisher{JS: l.conn.JS}).Publish(context.Background(), env)
	if err != nil || res.Duplicate {
		t.Fatalf("after the window JetStream still deduplicates (%+v, %v): the test proves nothing", res, err)
	}
}

// While NATS is down ingress answers 503 (never 2xx for something not
// stored); once NATS is back, deliveries are accepted and what was stored
// before survived the restart.
func TestNATSDownIs503AndRecovers(t *testing.T) {
	l := startIngress(t, 0)
	if got := l.post(t, "before", prBody); got != 202 {
		t.Fatalf("before outage: %d", got)
	}
	l.srv.Stop()
	if got := l.post(t, "during", prBody); got != 503 {
		t.Fatalf("during outage: %d, want 503", got)
	}
	l.srv.Restart()
	deadline := time.Now().Add(15 * time.Second)
	status := 0
	for time.Now().Before(deadline) {
		if status = l.post(t, "during", prBody); status == 202 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != 202 {
		t.Fatalf("after recovery: %d, want 202", status)
	}
	if n := l.stored(t); n != 2 {
		t.Fatalf("stream holds %d messages after restart, want 2", n)
	}
}

// A 25 MiB delivery (GitHub's maximum) is stored and reaches a consumer byte
// for byte: the body goes to the object store and the runtime puts it back.
func TestLargestDeliveryReachesConsumers(t *testing.T) {
	l := startIngress(t, 0)
	var b strings.Builder
	b.WriteString(`{"action":"opened","pull_request":{"number":3},"repository":{"name":"gitops","owner":{"login":"acme"}},"pad":"`)
	for b.Len() < 25<<20-2 {
		b.WriteString("0123456789abcdef")
	}
	body := b.String()[:25<<20-2] + `"}`
	if got := l.post(t, "big", body); got != 202 {
		t.Fatalf("25 MiB delivery: %d", got)
	}
	got := make(chan []byte, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = bus.Consume(ctx, l.conn, bus.ConsumerOptions{Spec: events.ConsumerSpec{Durable: "big", Stream: events.StreamGitHub,
			FilterSubjects: []string{events.GitHubFilter("pull_request", "*")}}},
			func(_ context.Context, m *bus.Message) error {
				var d events.GitHubDelivery
				if err := m.Env.DecodeData(&d); err != nil {
					return err
				}
				got <- d.Body
				return nil
			})
	}()
	select {
	case b := <-got:
		if len(b) != len(body) || string(b) != body {
			t.Fatalf("consumer got %d bytes, want the %d sent", len(b), len(body))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("delivery not consumed")
	}
}

// A blank GITHUB_WEBHOOK_SECRET (spaces, tabs, a newline) is refused at
// start like an empty one: anyone could sign with it.
func TestBlankSecretIsRefusedAtStart(t *testing.T) {
	srv := bustest.Start(t)
	conn := srv.Connect()
	for _, blank := range []string{"", " ", "   ", "\t \n"} {
		env := &app.Env{Conn: conn, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()}
		t.Setenv("GITHUB_WEBHOOK_SECRET", blank)
		if _, err := New(context.Background(), env); err == nil || !strings.Contains(err.Error(), "GITHUB_WEBHOOK_SECRET") {
			t.Errorf("secret %q: New returned %v, want a refusal naming GITHUB_WEBHOOK_SECRET", blank, err)
		}
	}
}
