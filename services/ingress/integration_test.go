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
	"github.com/nats-io/nats.go/jetstream"
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
	svc  *Service
}

// startIngress runs ingress (its spool in a directory of the test's, its
// drain running) over an embedded JetStream server.
func startIngress(t *testing.T, window time.Duration) *liveIngress {
	t.Helper()
	return startIngressEnv(t, window, false)
}

// startIngressEnv is startIngress as the all-in-one server on its embedded
// NATS starts it (embedded), or as a service on an external NATS.
func startIngressEnv(t *testing.T, window time.Duration, embedded bool) *liveIngress {
	t.Helper()
	t.Setenv("GITHUB_WEBHOOK_SECRET", secret)
	t.Setenv("INGRESS_PUBLISH_TIMEOUT", "500ms")
	t.Setenv("INGRESS_SPOOL_DIR", t.TempDir())
	srv := bustest.StartWithWindow(t, window)
	conn := srv.Connect()
	env := &app.Env{Conn: conn, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), EmbeddedNATS: embedded}
	svc, err := New(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	l := &liveIngress{srv: srv, conn: conn, svc: svc.(*Service)}
	l.url = serveIngress(t, l.svc)
	return l
}

// serveIngress serves svc's routes and runs it until the test ends; it
// returns the webhook URL.
func serveIngress(t *testing.T, svc *Service) string {
	t.Helper()
	r := chi.NewRouter()
	svc.Routes(r)
	hs := httptest.NewServer(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	t.Cleanup(func() { hs.Close(); cancel(); <-done })
	return hs.URL + "/webhook"
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

// While NATS is down ingress accepts deliveries into its spool (202, never
// 2xx for something it does not keep); once NATS is back the drain stores
// each on the stream exactly once, a body over the inline limit through the
// object store, and what was stored before survived the restart.
func TestNATSDownSpoolsAndRecovers(t *testing.T) {
	l := startIngress(t, 0)
	if got := l.post(t, "before", prBody); got != 202 {
		t.Fatalf("before outage: %d", got)
	}
	l.srv.Stop()
	if got := l.post(t, "during", prBody); got != 202 {
		t.Fatalf("during outage: %d, want 202 (spooled)", got)
	}
	big := largeBody(events.InlineBodyLimit + 4096)
	if got := l.post(t, "during-big", big); got != 202 {
		t.Fatalf("large delivery during outage: %d, want 202 (spooled)", got)
	}
	if n, _ := l.svc.handler.spool.usage(); n != 2 {
		t.Fatalf("spool holds %d entries, want 2", n)
	}
	l.srv.Restart()
	waitSpoolEmpty(t, l.svc)
	if got := l.post(t, "during", prBody); got != 200 {
		t.Fatalf("GitHub redelivering a spooled delivery: %d, want 200", got)
	}
	if n := l.stored(t); n != 3 {
		t.Fatalf("stream holds %d messages, want 3", n)
	}
	bodies := l.deliveredBodies(t)
	if bodies["during-big"] != big || bodies["during"] != prBody || bodies["before"] != prBody {
		t.Fatalf("stored bodies differ from those sent (%d of them)", len(bodies))
	}
}

// largeBody is a pull_request payload of n bytes.
func largeBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"action":"opened","pull_request":{"number":3},"repository":{"name":"gitops","owner":{"login":"acme"}},"pad":"`)
	for b.Len() < n-2 {
		b.WriteString("0123456789abcdef")
	}
	return b.String()[:n-2] + `"}`
}

// waitSpoolEmpty waits (up to 30 s) for svc's drain to empty its spool.
func waitSpoolEmpty(t *testing.T, svc *Service) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _ := svc.handler.spool.usage()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool still holds %d entries", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deliveredBodies reads every delivery on the stream, bodies resolved,
// by delivery id; a delivery stored twice fails the test.
func (l *liveIngress) deliveredBodies(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	l.eachDelivery(t, func(ctx context.Context, env *events.Envelope) {
		var d events.GitHubDelivery
		if err := env.DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		if err := bus.ResolveDelivery(ctx, l.conn.JS, &d); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[d.DeliveryID]; dup {
			t.Fatalf("delivery %s stored twice", d.DeliveryID)
		}
		out[d.DeliveryID] = string(d.Body)
	})
	return out
}

// eachDelivery calls f with every event on the GITHUB stream, in order.
func (l *liveIngress) eachDelivery(t *testing.T, f func(context.Context, *events.Envelope)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := l.conn.JS.OrderedConsumer(ctx, events.StreamGitHub, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for n, total := uint64(0), l.stored(t); n < total; n++ {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		env, err := events.Decode(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		f(ctx, env)
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
