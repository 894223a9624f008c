package argodiff

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/bus/prcheck"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
)

const (
	owner    = "acme"
	repoName = "gitops"
	full     = owner + "/" + repoName
	botLogin = "telefonistka-bot"
	botToken = "bot-token"
	human    = "alice"
)

func testLog() *slog.Logger {
	if os.Getenv("ARGODIFF_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func deployment(name string, replicas int) string {
	return "# " + name + "\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
		"\nspec:\n  replicas: " + string(rune('0'+replicas)) + "\n"
}

const repoConfig = `promotionPaths:
  - sourcePath: "clusters/staging/"
    promotionPrs:
      - targetPaths: ["clusters/prod/"]
argocd:
  commentDiffonPR: true
  autoMergeNoDiffPRs: true
  allowSyncfromBranchPathRegex: '^clusters/'
  createTempAppObjectFromNewApps: true
`

// fixture has an auto-synced application per component, found by the
// manifest-generate-paths annotation, and an ApplicationSet for new ones;
// live state follows the default branch (rendered from the GitHub
// emulator).
const fixture = `
settings: {url: "https://argocd.example.com", trackingMethod: annotation}
applications:
  - metadata:
      name: nginx-staging
      annotations: {argocd.argoproj.io/manifest-generate-paths: /clusters/staging/nginx}
    spec:
      source: {repoURL: "REPO", path: clusters/staging/nginx, targetRevision: HEAD}
      destination: {namespace: web}
      syncPolicy: {automated: {}}
  - metadata:
      name: nginx-prod
      annotations: {argocd.argoproj.io/manifest-generate-paths: .}
    spec:
      source: {repoURL: "REPO", path: clusters/prod/nginx, targetRevision: HEAD}
      destination: {namespace: web}
applicationSets:
  - metadata: {name: clusters, namespace: argocd}
    spec:
      goTemplate: true
      generators:
        - git: {repoURL: "REPO", revision: HEAD, directories: [{path: "clusters/*/*"}]}
      template:
        metadata: {name: "{{ .path.basename }}-{{ index .path.segments 1 }}"}
        spec:
          source: {repoURL: "REPO", path: "{{ .path.path }}", targetRevision: HEAD}
          destination: {namespace: "{{ .path.basename }}"}
          syncPolicy: {automated: {}}
`

// harness is an embedded JetStream, the GitHub emulator holding acme/gitops
// (whose webhooks a receiver stores on the bus as ingress does), the test
// Argo CD server reading manifests from it, and a stand-in for the drift
// service's part of each run (it minimises nothing and reports success).
type harness struct {
	t    testing.TB
	ns   *bustest.Server
	bus  *bus.Conn
	emu  *emulator.Emulator
	argo *argocdemu.Server
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, ns: bustest.Start(t)}
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
	if err := emu.CreateRepo(owner, repoName, map[string]string{
		"telefonistka.yaml":                        repoConfig,
		"clusters/staging/nginx/deploy.yaml":       deployment("nginx", 2),
		"clusters/prod/nginx/deploy.yaml":          deployment("nginx", 2),
		"clusters/staging/redis/telefonistka.yaml": "disableArgoCDDiff: true\n",
	}); err != nil {
		t.Fatal(err)
	}
	// The webhook's html_url is https://github.com/acme/gitops: the
	// applications name it in another spelling Argo CD accepts.
	f, err := argocdemu.ParseFixture([]byte(strings.ReplaceAll(fixture, "REPO", "https://GitHub.com/acme/gitops.git")))
	if err != nil {
		t.Fatal(err)
	}
	src, err := argocdemu.NewGitHubSource(emu.URL(), botToken)
	if err != nil {
		t.Fatal(err)
	}
	h.argo = argocdemu.New(f, argocdemu.Options{Token: "argo-token", Source: src, Log: testLog()})
	if err := h.argo.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.argo.Close() })
	go h.fakeDrift()
	return h
}

// receive stores a webhook delivery on the bus, keyed by its delivery id.
func (h *harness) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
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
	env, err := events.New(meta, &events.GitHubDelivery{DeliveryID: id, Event: r.Header.Get("X-GitHub-Event"),
		Action: head.Action, Headers: map[string]string{}, Body: body, ReceivedAt: time.Now()})
	if err == nil {
		_, err = bus.Publisher{JS: h.bus.JS}.Publish(r.Context(), env)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// fakeDrift plays the drift service's part of every run: it marks the
// earlier comments minimised and reports success.
func (h *harness) fakeDrift() {
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	store, err := prcheck.Open(ctx, h.bus)
	if err != nil {
		return
	}
	w, err := store.KV.WatchAll(ctx)
	if err != nil {
		return
	}
	for e := range w.Updates() {
		if e == nil || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		var run events.PRCheckRun
		if json.Unmarshal(e.Value(), &run) != nil || run.Minimized {
			continue
		}
		_, _ = store.Modify(ctx, e.Key(), run.RunID, func(r *events.PRCheckRun) {
			r.Minimized = true
			r.Finish(events.CheckerDrift, events.CheckSuccess, "", time.Now())
		})
	}
}

type options struct {
	cfg          Config
	noArgoCD     bool
	callTimeout  time.Duration
	eventTimeout time.Duration
}

// instance is one running argodiff service.
type instance struct {
	svc    *Service
	cancel context.CancelFunc
	done   chan error
}

func (h *harness) start(o options) *instance {
	h.t.Helper()
	gh, err := githubapi.NewFactory(githubapi.Config{URL: h.emu.URL(), OAuthToken: botToken, WriteRate: 1000, WriteBurst: 1000}, githubapi.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := o.cfg
	if cfg.TemplatesPath == "" {
		cfg.TemplatesPath = h.t.TempDir()
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 3 * time.Second
	}
	var argo ArgoCD
	if !o.noArgoCD {
		ct := o.callTimeout
		if ct == 0 {
			ct = 5 * time.Second
		}
		c := argocd.New(argocd.Options{ServerAddr: h.argo.Addr(), Token: "argo-token", PlainText: true, CallTimeout: ct})
		argo = c
	}
	svc, err := NewService(context.Background(), Deps{
		Config: cfg, Conn: h.ns.Connect(), Clients: gh, Status: gh.StatusSetter(testLog()), ArgoCD: argo, Log: testLog(),
		ConsumerOptions: func(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
			return bus.ConsumerOptions{Spec: spec, Service: service, Log: testLog(), EventTimeout: o.eventTimeout,
				DrainTimeout: time.Millisecond, Backoff: func(uint64) time.Duration { return 100 * time.Millisecond }}
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- svc.Run(ctx) }()
	h.t.Cleanup(func() { cancel(); <-in.done })
	return in
}

func (h *harness) push(branch string, changes map[string]*string) string {
	h.t.Helper()
	sha, err := h.emu.Push(full, branch, human, "change", changes)
	if err != nil {
		h.t.Fatal(err)
	}
	return sha
}

func (h *harness) openPR(branch string, changes map[string]*string, body string, labels ...string) (int, string) {
	h.t.Helper()
	sha := h.push(branch, changes)
	n, err := h.emu.OpenPullRequest(full, emulator.PullRequestSpec{Author: human, Title: "change " + branch, Head: branch, Body: body, Labels: labels})
	if err != nil {
		h.t.Fatal(err)
	}
	return n, sha
}

func (h *harness) pr(n int) emulator.PullRequest {
	h.t.Helper()
	pr, err := h.emu.GetPullRequest(full, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return pr
}

func (h *harness) statuses(sha string) []string {
	h.t.Helper()
	all, err := h.emu.Statuses(full, sha)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.Context == githubapi.StatusContext {
			out = append(out, s.State)
		}
	}
	return out
}

// waitFinal waits until the telefonistka status of sha is final.
func (h *harness) waitFinal(sha string) []string {
	h.t.Helper()
	var states []string
	h.eventually(func() bool {
		states = h.statuses(sha)
		return len(states) > 0 && states[len(states)-1] != githubapi.StatePending
	}, "the status of "+sha+" to end")
	return states
}

func (h *harness) botComments(n int, text string) []emulator.Comment {
	h.t.Helper()
	all, err := h.emu.Comments(full, n)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []emulator.Comment
	for _, c := range all {
		if c.Author == botLogin && strings.Contains(c.Body, text) {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) eventually(cond func() bool, what string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("timed out waiting for %s", what)
}

// waitIdle waits until every webhook was sent and the argodiff consumer has
// nothing pending or in flight.
func (h *harness) waitIdle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.emu.WaitWebhooks(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.eventually(func() bool {
		cons, err := h.bus.JS.Consumer(ctx, events.StreamGitHub, "argodiff")
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "the argodiff consumer to be idle")
}

// argoEvents returns the argodiff events published so far.
func (h *harness) argoEvents() []*events.Envelope {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := h.bus.JS.OrderedConsumer(ctx, events.StreamArgoDiff, jetstream.OrderedConsumerConfig{})
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

func str(s string) *string { return &s }
