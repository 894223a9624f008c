package fanout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const (
	testOwner  = "acme"
	testRepo   = "gitops"
	testSecret = "shared-webhook-secret"
)

var repo = events.Repo{Owner: testOwner, Name: testRepo}

// testLog is quiet unless FANOUT_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("FANOUT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// gitHub is the GitHub emulator holding acme/gitops, whose default
// branch is main. It sends no webhooks unless a test configures them.
type gitHub struct {
	*githubapi.GitHub // the adapter on the emulator
	t                 testing.TB
	emu               *emulator.Emulator
	n                 atomic.Int32
}

// contentsRoute is the emulator's counter key of the contents API.
const contentsRoute = "GET /repos/{owner}/{repo}/contents/*"

func newGitHub(t testing.TB) *gitHub {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	if err := emu.CreateRepo(testOwner, testRepo, map[string]string{"README.md": "GitOps\n"}); err != nil {
		t.Fatal(err)
	}
	f, err := githubapi.NewFactory(githubapi.Config{OAuthToken: "any", URL: emu.URL()}, githubapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &gitHub{GitHub: githubapi.NewGitHub(f, nil), t: t, emu: emu}
}

// head is the commit at the tip of branch.
func (g *gitHub) head(branch string) string {
	g.t.Helper()
	b, err := g.emu.Branches(repo.String())
	if err != nil || b[branch] == "" {
		g.t.Fatalf("branch %s: %v", branch, err)
	}
	return b[branch]
}

// config commits telefonistka.yaml with content on a branch of its own and
// returns the commit.
func (h *harness) config(content string) string {
	h.t.Helper()
	branch := fmt.Sprintf("config-%d", h.gh.n.Add(1))
	sha, err := h.gh.emu.Push(repo.String(), branch, "octocat", "configure fan-out", map[string]*string{"telefonistka.yaml": emulator.Content(content)})
	if err != nil {
		h.t.Fatal(err)
	}
	return sha
}

// configReads is how many times the contents API was called.
func (h *harness) configReads() int64 { return h.gh.emu.Count(contentsRoute) }

// harness runs the fan-out service on an embedded JetStream.
type harness struct {
	t    testing.TB
	srv  *bustest.Server
	conn *bus.Conn
	gh   *gitHub
	// initial is the first commit of main, without telefonistka.yaml.
	initial string
	reg     *prometheus.Registry
	events  chan *events.Envelope
}

func testConfig() Config {
	// The receivers listen on loopback, which fan-out refuses unless told.
	return Config{Concurrency: 10, Timeout: 10 * time.Second, MaxAttempts: 3, RetryBase: 50 * time.Millisecond, AllowLocalAddresses: true}
}

func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	return startLogging(t, cfg, testLog())
}

// startLogging is start with the service logging to log.
func startLogging(t testing.TB, cfg Config, log *slog.Logger) *harness {
	t.Helper()
	srv := bustest.Start(t)
	h := &harness{t: t, srv: srv, conn: srv.Connect(), gh: newGitHub(t),
		reg: prometheus.NewRegistry(), events: make(chan *events.Envelope, 1024)}
	h.initial = h.gh.head("main")
	sub, err := h.conn.NC.Subscribe("fanout.>", func(m *nats.Msg) {
		if env, err := events.Decode(m.Data); err == nil {
			h.events <- env
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := h.conn.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	s, err := NewService(Deps{Config: cfg, Conn: h.conn, GitHub: h.gh, Registry: h.reg, Log: log,
		ConsumerOptions: func(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
			return bus.ConsumerOptions{Spec: spec, Service: service, Log: log,
				Backoff: func(uint64) time.Duration { return 20 * time.Millisecond }}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

// deliver stores a push delivery on the GITHUB stream as ingress does and
// returns its stream sequence.
func (h *harness) deliver(id string, body []byte, extra map[string]string) uint64 {
	h.t.Helper()
	headers := map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "GitHub-Hookshot/7a3c2e1",
		"X-Github-Event":      "push",
		"X-Github-Delivery":   id,
		"X-Github-Hook-Id":    "4242",
		"X-Hub-Signature-256": sign(body),
		"Content-Length":      fmt.Sprint(len(body)),
	}
	for k, v := range extra {
		headers[k] = v
	}
	return h.deliverEnvelope(id, id, headers, body)
}

func (h *harness) deliverEnvelope(envID, deliveryID string, headers map[string]string, body []byte) uint64 {
	h.t.Helper()
	seq, err := h.store(envID, deliveryID, headers, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return seq
}

func (h *harness) store(envID, deliveryID string, headers map[string]string, body []byte) (uint64, error) {
	r := repo
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := &events.GitHubDelivery{DeliveryID: deliveryID, Event: "push", Headers: headers, Body: body, ReceivedAt: time.Now()}
	if len(body) > events.InlineBodyLimit { // as ingress does
		bodies, err := bus.EnsureBodies(ctx, h.conn)
		if err != nil {
			return 0, err
		}
		if d.BodyRef, err = bus.StoreBody(ctx, bodies, envID, body); err != nil {
			return 0, err
		}
		d.Body = nil
	}
	env, err := events.New(events.Meta{ID: envID, Source: "ingress", CorrelationID: deliveryID, Repo: &r}, d)
	if err != nil {
		return 0, err
	}
	pub, err := (bus.Publisher{JS: h.conn.JS}).Publish(ctx, env)
	return pub.Sequence, err
}

// ingress serves a webhook receiver that stores push deliveries on the
// GITHUB stream the way the ingress service does (it checks no signature)
// and records what it stored.
func (h *harness) ingress() (url string, stored func() []call) {
	var mu sync.Mutex
	var got []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-GitHub-Event") != "push" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		headers := map[string]string{}
		for k, v := range r.Header {
			headers[k] = strings.Join(v, ", ")
		}
		id := r.Header.Get("X-GitHub-Delivery")
		if _, err := h.store(id, id, headers, body); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got = append(got, call{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	h.t.Cleanup(srv.Close)
	return srv.URL + "/webhook", func() []call {
		mu.Lock()
		defer mu.Unlock()
		return append([]call(nil), got...)
	}
}

// waitEvents collects n events of type typ (others are dropped).
func (h *harness) waitEvents(typ string, n int, within time.Duration) []*events.Envelope {
	h.t.Helper()
	var got []*events.Envelope
	deadline := time.After(within)
	for len(got) < n {
		select {
		case env := <-h.events:
			if env.Type == typ {
				got = append(got, env)
			}
		case <-deadline:
			h.t.Fatalf("got %d %s events within %v, want %d", len(got), typ, within, n)
		}
	}
	return got
}

// waitIdle waits until the consumer has handled every message of its
// stream up to seq and has nothing pending.
func (h *harness) waitIdle(stream, durable string, seq uint64) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := h.conn.JS.Consumer(ctx, stream, durable)
		if err == nil {
			info, ierr := c.Info(ctx)
			cancel()
			if ierr == nil && info.AckFloor.Stream >= seq && info.NumAckPending == 0 && info.NumPending == 0 {
				return
			}
		} else {
			cancel()
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("consumer %s did not finish up to sequence %d", durable, seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// jobCount is how many jobs the FANOUT stream holds.
func (h *harness) jobCount() uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := h.conn.JS.Stream(ctx, events.StreamFanout)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter("fanout.requested.>"))
	if err != nil {
		h.t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// counter reads telefonistka_webhook_proxy_upstream_requests_total.
func (h *harness) counter(status, url string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "telefonistka_webhook_proxy_upstream_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["status"] == status && labels["url"] == url && labels["method"] == "POST" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func decode[T any, P interface {
	*T
	events.Payload
}](t testing.TB, env *events.Envelope) *T {
	t.Helper()
	p := P(new(T))
	if err := env.DecodeData(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *harness) srvPublisher() bus.Publisher { return bus.Publisher{JS: h.conn.JS} }
