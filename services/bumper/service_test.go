package bumper

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// serviceHarness runs the service on an embedded JetStream against the
// emulator.
type serviceHarness struct {
	t    *testing.T
	em   *emulator.Emulator
	conn *bus.Conn
	env  *app.Env
}

func testLogger() *slog.Logger {
	if os.Getenv("BUMPER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startService(t *testing.T) *serviceHarness {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	if err := em.CreateRepo("acme", "gitops", map[string]string{valuesFile: valuesYAML}); err != nil {
		t.Fatal(err)
	}
	conn := bustest.Start(t).Connect()
	reg := prometheus.NewRegistry()
	env := &app.Env{
		Config:     app.Config{EventTimeout: 30 * time.Second, ShutdownTimeout: 5 * time.Second},
		Conn:       conn,
		Log:        testLogger(),
		Registry:   reg,
		BusMetrics: bus.NewMetrics(reg),
	}
	f, err := githubapi.NewFactory(githubapi.Config{OAuthToken: "any", URL: em.URL()}, githubapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(env, Config{Concurrency: 2, MaxDeliver: 3}, githubapi.NewGitHub(f, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service stopped with %v", err)
		}
	})
	return &serviceHarness{t: t, em: em, conn: conn, env: env}
}

func request(mode string) *events.BumpRequested {
	r := &events.BumpRequested{
		TargetRepo: gitopsRepo, TargetFile: valuesFile, Mode: mode,
		TriggeringRepo: "acme/billing", TriggeringSHA: testSHA, TriggeringActor: "octocat",
	}
	switch mode {
	case events.BumpYAML:
		r.Address, r.Replacement = ".image.tag", "v1.5.0"
	case events.BumpRegex:
		r.Regex, r.Replacement = `tag: v[0-9.]+`, "tag: v1.5.0"
	}
	return r
}

// publish sends r with the given envelope ID ("" for BumpRequestID).
func (h *serviceHarness) publish(r *events.BumpRequested, id string) bus.Published {
	h.t.Helper()
	if id == "" {
		id = r.ID()
	}
	meta := events.Meta{ID: id, Source: "ci", CorrelationID: "pipeline-run-1"}
	if target, err := events.ParseRepo(r.TargetRepo); err == nil {
		meta.Repo = &target
	}
	env, err := events.New(meta, r)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := h.env.Publisher().Publish(ctx, env)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// outcomes reads every outcome event in the BUMP stream, waiting until
// there are at least n and the consumer has settled every request.
func (h *serviceHarness) outcomes(n int) []*events.Envelope {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		got := h.readOutcomes(ctx)
		if len(got) >= n && h.settled(ctx) {
			return got
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("waiting for %d outcomes; have %d", n, len(got))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *serviceHarness) readOutcomes(ctx context.Context) []*events.Envelope {
	h.t.Helper()
	cons, err := h.conn.JS.OrderedConsumer(ctx, events.StreamBump, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"bump.opened.>", "bump.unchanged.>", "bump.failed.>"},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*events.Envelope
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			h.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env, err := events.Decode(m.Data())
			if err != nil {
				h.t.Fatal(err)
			}
			out = append(out, env)
		}
		if n == 0 {
			return out
		}
	}
}

// settled reports whether the bumper consumer has handled every request.
func (h *serviceHarness) settled(ctx context.Context) bool {
	cons, err := h.conn.JS.Consumer(ctx, events.StreamBump, Name)
	if err != nil {
		return false
	}
	info, err := cons.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

func TestServiceOpensPR(t *testing.T) {
	h := startService(t)
	h.publish(request(events.BumpYAML), "")
	out := h.outcomes(1)
	if len(out) != 1 || out[0].Type != events.TypeBumpOpened {
		t.Fatalf("outcomes %+v", out)
	}
	var opened events.BumpOpened
	if err := out[0].DecodeData(&opened); err != nil {
		t.Fatal(err)
	}
	if opened.PRNumber != 1 || opened.Branch != bumpBranch || opened.Adopted || opened.PRURL != "https://github.com/acme/gitops/pull/1" {
		t.Errorf("opened %+v", opened)
	}
	r := request(events.BumpYAML)
	if out[0].CausationID != r.ID() || out[0].CorrelationID != "pipeline-run-1" || out[0].PR != 1 || out[0].Repo.String() != gitopsRepo {
		t.Errorf("envelope %+v", out[0])
	}
	if got, _ := h.em.ReadFile(gitopsRepo, bumpBranch, valuesFile); got != "image:\n  tag: v1.5.0 # deployed\n" {
		t.Errorf("branch file %q", got)
	}
	pr, err := h.em.GetPullRequest(gitopsRepo, 1)
	if err != nil || strings.Join(pr.Labels, ",") != "promotion" || strings.Join(pr.Assignees, ",") != "octocat" {
		t.Errorf("PR %+v, %v", pr, err)
	}
}

func TestServiceRedeliveredRequestOpensNoSecondPR(t *testing.T) {
	h := startService(t)
	r := request(events.BumpYAML)
	h.publish(r, "")
	first := h.outcomes(1)

	// The same request again within the duplicate window is dropped by
	// JetStream...
	if p := h.publish(r, ""); !p.Duplicate {
		t.Errorf("republishing the same request was stored again: %+v", p)
	}
	// ...and delivered again under another ID (a replay after the window),
	// it adopts the open PR: no commit, no PR, the same outcome.
	h.em.ResetCounters()
	h.publish(r, "replayed-"+r.ID())
	out := h.outcomes(1)
	for key, n := range h.em.Counters() {
		if !strings.HasPrefix(key, "GET ") {
			t.Errorf("the replay called %s %d times", key, n)
		}
	}
	if len(out) != 1 || out[0].ID != first[0].ID {
		t.Errorf("outcomes after the replay: %d (ids %s vs %s)", len(out), out[0].ID, first[0].ID)
	}
	if prs, _ := h.em.PullRequests(gitopsRepo); len(prs) != 1 {
		t.Errorf("%d PRs", len(prs))
	}
}

func TestServiceRetriesAfterTransientFailureWithoutSecondCommit(t *testing.T) {
	h := startService(t)
	if err := h.em.InjectFault(emulator.Fault{Method: "POST", Route: "/repos/{owner}/{repo}/pulls", Kind: emulator.FaultServerError}); err != nil {
		t.Fatal(err)
	}
	h.publish(request(events.BumpRegex), "")
	out := h.outcomes(1)
	if len(out) != 1 || out[0].Type != events.TypeBumpOpened {
		t.Fatalf("outcomes %+v", out)
	}
	if n := h.em.Count("POST /repos/{owner}/{repo}/git/commits"); n != 1 {
		t.Errorf("%d commits created, want 1", n)
	}
	if n := h.em.Count("POST /repos/{owner}/{repo}/pulls"); n != 2 {
		t.Errorf("%d PR creations, want 2 (one failed)", n)
	}
	if prs, _ := h.em.PullRequests(gitopsRepo); len(prs) != 1 {
		t.Errorf("%d PRs", len(prs))
	}
}

func TestServiceOutcomes(t *testing.T) {
	unchanged := request(events.BumpYAML)
	unchanged.Replacement = "v1.4.0"
	noMatch := request(events.BumpRegex)
	noMatch.Regex = "version: .*"
	badMode := request(events.BumpYAML)
	badMode.Mode = "sed"
	missing := request(events.BumpYAML)
	missing.TargetFile = "apps/none.yaml"
	cases := []struct {
		name  string
		req   *events.BumpRequested
		typ   string
		check func(t *testing.T, env *events.Envelope)
	}{
		{"unchanged", unchanged, events.TypeBumpUnchanged, func(t *testing.T, env *events.Envelope) {
			var u events.BumpUnchanged
			if err := env.DecodeData(&u); err != nil || u.BaseBranch != "main" || u.BaseCommit == "" {
				t.Errorf("unchanged %+v, %v", u, err)
			}
		}},
		{"regex matches nothing", noMatch, events.TypeBumpFailed, failedWith("computing the new content of apps/billing/values.yaml", "matches nothing")},
		{"invalid request", badMode, events.TypeBumpFailed, failedWith("checking the request", `mode "sed"`)},
		{"missing file", missing, events.TypeBumpFailed, failedWith("computing the new content of apps/none.yaml", "does not exist on main")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startService(t)
			h.publish(c.req, "")
			out := h.outcomes(1)
			if len(out) != 1 || out[0].Type != c.typ {
				t.Fatalf("outcomes %+v", out)
			}
			c.check(t, out[0])
			if prs, _ := h.em.PullRequests(gitopsRepo); len(prs) != 0 {
				t.Errorf("%d PRs", len(prs))
			}
			if b, _ := h.em.Branches(gitopsRepo); len(b) != 1 {
				t.Errorf("branches %v", b)
			}
		})
	}
}

func failedWith(step, msg string) func(t *testing.T, env *events.Envelope) {
	return func(t *testing.T, env *events.Envelope) {
		var f events.BumpFailed
		if err := env.DecodeData(&f); err != nil {
			t.Fatal(err)
		}
		if f.Step != step || !strings.Contains(f.Error, msg) || !f.Permanent {
			t.Errorf("failed %+v, want step %q and %q", f, step, msg)
		}
	}
}

func TestServiceAutoMergeAfterBaseBranchModified(t *testing.T) {
	h := startService(t)
	h.em.FailNextMerge()
	r := request(events.BumpYAML)
	r.AutoMerge = true
	h.publish(r, "")
	out := h.outcomes(1)
	var opened events.BumpOpened
	if len(out) != 1 || out[0].DecodeData(&opened) != nil || !opened.Merged || opened.MergeCommit == "" {
		t.Fatalf("outcomes %+v (%+v)", out, opened)
	}
	if got, _ := h.em.ReadFile(gitopsRepo, "main", valuesFile); got != "image:\n  tag: v1.5.0 # deployed\n" {
		t.Errorf("main after the merge: %q", got)
	}
}
