package drift

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const (
	owner    = "acme"
	repoName = "gitops"
	full     = owner + "/" + repoName
	botLogin = "telefonistka-bot"
	botToken = "bot-token"
	human    = "alice"
)

// Counter keys of the emulator routes the budget tests watch.
const (
	treeRoute     = "GET /repos/{owner}/{repo}/git/trees/{sha}"
	blobRoute     = "GET /repos/{owner}/{repo}/git/blobs/{sha}"
	contentsRoute = "GET /repos/{owner}/{repo}/contents/*"
)

func testLog() *slog.Logger {
	if os.Getenv("DRIFT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// harness is an embedded JetStream, the GitHub emulator holding
// acme/gitops (default branch main) whose webhooks a small receiver turns
// into GitHub deliveries on the bus (as ingress does), and a way to run the
// drift service against both.
type harness struct {
	t   *testing.T
	ns  *bustest.Server
	bus *bus.Conn
	emu *emulator.Emulator
	reg *prometheus.Registry
}

func newHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, ns: bustest.Start(t), reg: prometheus.NewRegistry()}
	h.bus = h.ns.Connect()
	emu, err := emulator.New(emulator.Options{Tokens: map[string]string{botToken: botLogin}})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	h.emu = emu
	receiver := httptest.NewServer(http.HandlerFunc(h.receive))
	t.Cleanup(receiver.Close)
	emu.SetWebhook(receiver.URL, "secret")
	if err := emu.CreateRepo(owner, repoName, files); err != nil {
		t.Fatal(err)
	}
	return h
}

// receive stores a webhook delivery on the bus, keyed by its delivery id.
func (h *harness) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var head struct {
		Action     string `json:"action"`
		Number     int    `json:"number"`
		Repository struct {
			Name  string `json:"name"`
			Owner struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
		Issue *struct {
			Number int `json:"number"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-GitHub-Delivery")
	meta := events.Meta{ID: id, Source: "ingress", CorrelationID: id,
		Repo: &events.Repo{Owner: head.Repository.Owner.Login, Name: head.Repository.Name}, PR: head.Number}
	if head.Issue != nil {
		meta.PR = head.Issue.Number
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ", ")
	}
	env, err := events.New(meta, &events.GitHubDelivery{DeliveryID: id, Event: r.Header.Get("X-GitHub-Event"),
		Action: head.Action, Headers: headers, Body: body, ReceivedAt: time.Now()})
	if err == nil {
		_, err = bus.Publisher{JS: h.bus.JS}.Publish(r.Context(), env)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// instance is one running drift service.
type instance struct {
	svc    *Service
	conn   *bus.Conn
	cancel context.CancelFunc
	done   chan error
}

type options struct {
	cfg          Config
	eventTimeout time.Duration
	drain        time.Duration
	app          bool // App auth instead of the bot token
	registry     *prometheus.Registry
	// statusURL is the CUSTOM_COMMIT_STATUS_URL_TEMPLATE_PATH template.
	statusURL string
}

// start runs a drift service on its own NATS connection until the test
// ends (or stop/kill).
func (h *harness) start(o options) *instance {
	h.t.Helper()
	svc, conn := h.build(o)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{svc: svc, conn: conn, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- svc.Run(ctx) }()
	h.t.Cleanup(in.stop)
	return in
}

// build makes a drift service on its own NATS connection without running it.
func (h *harness) build(o options) (*Service, *bus.Conn) {
	h.t.Helper()
	ghCfg := githubapi.Config{URL: h.emu.URL(), OAuthToken: botToken, WriteRate: 1000, WriteBurst: 1000}
	if o.app {
		ghCfg = githubapi.Config{URL: h.emu.URL(), AppID: 1, AppPrivateKeyPath: writeAppKey(h.t), WriteRate: 1000, WriteBurst: 1000}
	}
	if o.statusURL != "" {
		path := filepath.Join(h.t.TempDir(), "status-url.tmpl")
		if err := os.WriteFile(path, []byte(o.statusURL), 0o644); err != nil {
			h.t.Fatal(err)
		}
		ghCfg.CommitStatusURLTemplatePath = path
	}
	reg := o.registry
	if reg == nil {
		reg = h.reg
	}
	gh, err := githubapi.NewFactory(ghCfg, githubapi.Options{Registerer: reg})
	if err != nil {
		h.t.Fatal(err)
	}
	conn := h.ns.Connect()
	cfg := o.cfg
	if cfg.TemplatesPath == "" {
		cfg.TemplatesPath = h.t.TempDir()
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 3 * time.Second
	}
	svc, err := NewService(context.Background(), Deps{
		Config: cfg, Conn: conn, Clients: gh, Status: gh.StatusSetter(testLog()), Registry: reg, Log: testLog(),
		ConsumerOptions: func(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
			return bus.ConsumerOptions{Spec: spec, Service: service, Log: testLog(),
				EventTimeout: o.eventTimeout, DrainTimeout: max(o.drain, time.Millisecond),
				Backoff: func(uint64) time.Duration { return 100 * time.Millisecond }}
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return svc, conn
}

// stop shuts the instance down and waits for it.
func (in *instance) stop() {
	in.cancel()
	<-in.done
	in.done <- nil // let stop be called again
}

// kill cuts the instance off from NATS at once, as a killed process would
// be: nothing it does afterwards reaches the bus.
func (in *instance) kill() {
	in.conn.NC.Close()
	in.stop()
}

// push commits changes to branch as alice.
func (h *harness) push(branch string, changes map[string]*string) string {
	h.t.Helper()
	sha, err := h.emu.Push(full, branch, human, "change", changes)
	if err != nil {
		h.t.Fatal(err)
	}
	return sha
}

// openPR pushes changes to a new branch and opens a PR from it.
func (h *harness) openPR(branch string, changes map[string]*string, labels ...string) int {
	h.t.Helper()
	h.push(branch, changes)
	n, err := h.emu.OpenPullRequest(full, emulator.PullRequestSpec{Author: human, Title: "change " + branch, Head: branch, Labels: labels})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) pr(n int) emulator.PullRequest {
	h.t.Helper()
	pr, err := h.emu.GetPullRequest(full, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return pr
}

// statuses returns the states of context on sha, oldest first.
func (h *harness) statuses(sha, statusContext string) []string {
	h.t.Helper()
	all, err := h.emu.Statuses(full, sha)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.Context == statusContext {
			out = append(out, s.State)
		}
	}
	return out
}

// waitFinal waits until the telefonistka status of sha is final (not
// pending) and returns every state it had.
func (h *harness) waitFinal(sha string) []string {
	h.t.Helper()
	var states []string
	h.eventually(func() bool {
		states = h.statuses(sha, githubapi.StatusContext)
		return len(states) > 0 && states[len(states)-1] != githubapi.StatePending
	}, "the telefonistka status of %s to end; states so far: %v", sha, &states)
	return states
}

// comments returns the PR's comments by the bot.
func (h *harness) botComments(n int) []emulator.Comment {
	h.t.Helper()
	all, err := h.emu.Comments(full, n)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []emulator.Comment
	for _, c := range all {
		if c.Author == botLogin {
			out = append(out, c)
		}
	}
	return out
}

// visible returns the bot comments that are not minimised and whose body
// contains text.
func visible(cs []emulator.Comment, text string) []emulator.Comment {
	var out []emulator.Comment
	for _, c := range cs {
		if !c.Minimized && strings.Contains(c.Body, text) {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) eventually(cond func() bool, format string, args ...any) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, a := range args {
		if p, ok := a.(*[]string); ok {
			args[i] = *p
		}
	}
	h.t.Fatalf("timed out waiting for "+format, args...)
}

// driftEvents returns the drift events published so far.
func (h *harness) driftEvents() []*events.Envelope {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := h.bus.JS.OrderedConsumer(ctx, events.StreamDrift, jetstream.OrderedConsumerConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*events.Envelope
	for pending := info.NumPending; pending > 0; pending-- {
		m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			h.t.Fatal(err)
		}
		env, err := events.Decode(m.Data())
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// waitIdle waits until the emulator has sent every webhook and the drift
// consumer has nothing pending or in flight.
func (h *harness) waitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.emu.WaitWebhooks(ctx); err != nil {
		h.t.Fatal(err)
	}
	var mu sync.Mutex
	h.eventually(func() bool {
		mu.Lock()
		defer mu.Unlock()
		cons, err := h.bus.JS.Consumer(ctx, events.StreamGitHub, "drift")
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "the drift consumer to be idle")
}

// writeAppKey writes a new RSA private key (PEM) for App auth and returns
// its path; the emulator accepts any well-formed JWT of app 1.
func writeAppKey(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
