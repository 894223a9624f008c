package planner

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const (
	botToken = "bot-token"
	botLogin = "telefonistka-bot"
	human    = "alice"
	repoName = "acme/gitops"
)

var testRepo = events.Repo{Owner: "acme", Name: "gitops"}

// fixture runs the planner against the emulator and an embedded
// JetStream. The emulator's webhooks are stored on the GITHUB stream by a
// small stand-in for ingress.
type fixture struct {
	t    *testing.T
	gh   *emulator.Emulator
	conn *bus.Conn
	mu   sync.Mutex
	seen []*events.Envelope
}

func testLog() *slog.Logger {
	if os.Getenv("PLANNER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	srv := bustest.Start(t)
	f := &fixture{t: t, conn: srv.Connect()}
	hook := httptest.NewServer(http.HandlerFunc(f.store))
	t.Cleanup(hook.Close)
	gh, err := emulator.New(emulator.Options{Tokens: map[string]string{botToken: botLogin}, WebhookURL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	if err := gh.CreateRepo(testRepo.Owner, testRepo.Name, files); err != nil {
		t.Fatal(err)
	}
	f.gh = gh
	f.record()
	return f
}

// store stores a webhook delivery as ingress would (no signature check).
func (f *fixture) store(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	headers := map[string]string{"Content-Type": r.Header.Get("Content-Type")}
	action := ""
	if i := strings.Index(string(body), `"action":"`); i >= 0 {
		rest := string(body[i+len(`"action":"`):])
		action = rest[:strings.IndexByte(rest, '"')]
	}
	d := &events.GitHubDelivery{DeliveryID: r.Header.Get("X-GitHub-Delivery"), Event: r.Header.Get("X-GitHub-Event"),
		Action: action, Headers: headers, Body: body, ReceivedAt: time.Now()}
	env, err := events.New(events.Meta{ID: d.DeliveryID, Source: "ingress", CorrelationID: d.DeliveryID, Repo: &testRepo}, d)
	if err == nil {
		_, err = (bus.Publisher{JS: f.conn.JS}).Publish(r.Context(), env)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (f *fixture) record() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := f.conn.JS.OrderedConsumer(ctx, events.StreamPromotion, jetstream.OrderedConsumerConfig{})
	if err != nil {
		f.t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if env, err := events.Decode(m.Data()); err == nil {
			f.mu.Lock()
			f.seen = append(f.seen, env)
			f.mu.Unlock()
		}
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(cc.Stop)
}

// start runs the planner until the test ends.
func (f *fixture) start() {
	f.t.Helper()
	factory, err := githubapi.NewFactory(githubapi.Config{OAuthToken: botToken, URL: f.gh.URL(), WriteRate: 1000, WriteBurst: 1000}, githubapi.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	cfg := Config{TemplatesPath: f.t.TempDir(), Concurrency: 4, ConfigCacheSize: 64, MaxDeliver: 3, AckWait: 30 * time.Second}
	svc, err := NewService(context.Background(), Deps{Config: cfg, Conn: f.conn, GitHub: githubapi.NewGitHub(factory, nil), Log: testLog()})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	f.t.Cleanup(func() { cancel(); <-done })
}

// mergeChange pushes change on a branch, opens a PR (with labels) and
// merges it; it returns the PR number, its head and the merge commit.
func (f *fixture) mergeChange(branch string, change map[string]*string, labels ...string) (int, string, string) {
	f.t.Helper()
	n := f.openChange(branch, change, labels...)
	head := f.pr(n).HeadSHA
	merge, err := f.gh.MergePullRequest(repoName, n, human)
	if err != nil {
		f.t.Fatal(err)
	}
	return n, head, merge
}

func (f *fixture) openChange(branch string, change map[string]*string, labels ...string) int {
	f.t.Helper()
	if _, err := f.gh.Push(repoName, branch, human, "change", change); err != nil {
		f.t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: human, Title: branch, Head: branch, Labels: labels})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) pr(n int) emulator.PullRequest {
	f.t.Helper()
	pr, err := f.gh.GetPullRequest(repoName, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return pr
}

// eventually polls cond for up to 20s.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: not true after 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// handled waits until the consumer named durable has acknowledged every
// message published to it so far (an event, not a pause): what it would do
// with them is done.
func (f *fixture) handled(stream, durable string) {
	f.t.Helper()
	f.eventually(durable+" handled everything", func() bool {
		cons, err := f.conn.JS.Consumer(context.Background(), stream, durable)
		if err != nil {
			return false
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Consumer > 0
	})
}

// status returns the latest telefonistka status on sha.
func (f *fixture) status(sha string) string {
	f.t.Helper()
	statuses, err := f.gh.Statuses(repoName, sha)
	if err != nil {
		f.t.Fatal(err)
	}
	state := ""
	for _, s := range statuses {
		if s.Context == githubapi.StatusContext {
			state = s.State
		}
	}
	return state
}

// finalStatus waits for a final (non-pending) status on sha.
func (f *fixture) finalStatus(sha string) string {
	f.t.Helper()
	var state string
	f.eventually("final status on "+sha, func() bool {
		state = f.status(sha)
		return state != "" && state != githubapi.StatePending
	})
	return state
}

func (f *fixture) comments(n int) []emulator.Comment {
	f.t.Helper()
	cs, err := f.gh.Comments(repoName, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func payloads[T events.Payload](f *fixture, typ string) []T {
	f.mu.Lock()
	envs := append([]*events.Envelope(nil), f.seen...)
	f.mu.Unlock()
	var out []T
	for _, e := range envs {
		if e.Type != typ {
			continue
		}
		if p, err := e.Payload(); err == nil {
			out = append(out, p.(T))
		}
	}
	return out
}

// publish publishes a promotion event as another service would.
func (f *fixture) publish(id string, pr int, p events.Payload) {
	f.t.Helper()
	env, err := events.New(events.Meta{ID: id, Source: "test", CorrelationID: "test", Repo: &testRepo, PR: pr}, p)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := (bus.Publisher{JS: f.conn.JS}).Publish(context.Background(), env); err != nil {
		f.t.Fatal(err)
	}
}
