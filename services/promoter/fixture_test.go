package promoter

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

const (
	botToken      = "bot-token"
	botLogin      = "telefonistka-bot"
	approverToken = "approver-token"
	human         = "alice"
	repoName      = "acme/gitops"
	groupKey      = "source/>target/"
)

var testRepo = events.Repo{Owner: "acme", Name: "gitops"}

// baseFiles: one flow source/ -> target/, components a and b, targets in
// sync with their sources.
func baseFiles() map[string]string {
	return map[string]string{
		"telefonistka.yaml": "promotionPaths:\n  - sourcePath: source/\n    promotionPrs:\n      - targetPaths: [target/]\n",
		"source/a/app.yaml": "a: 1\n", "target/a/app.yaml": "a: 1\n",
		"source/b/app.yaml": "b: 1\n", "target/b/app.yaml": "b: 1\n",
	}
}

// fixture runs the promoter against the emulator and an embedded
// JetStream; tests publish planned events and read the outcome events.
type fixture struct {
	t      *testing.T
	gh     *emulator.Emulator
	conn   *bus.Conn
	cfg    Config
	mu     sync.Mutex
	seen   []*events.Envelope
	stop   context.CancelFunc
	done   chan error
	withAp bool
}

func testLog() *slog.Logger {
	if os.Getenv("PROMOTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newFixture(t *testing.T, files map[string]string, approver bool) *fixture {
	t.Helper()
	gh, err := emulator.New(emulator.Options{Tokens: map[string]string{botToken: botLogin, approverToken: "approver"}})
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
	srv := bustest.Start(t)
	f := &fixture{t: t, gh: gh, conn: srv.Connect(), withAp: approver, cfg: Config{
		TemplatesPath: t.TempDir(), Concurrency: 4, MaxDeliver: 5, AckWait: 30 * time.Second, TreeCacheSize: 8,
		LockTTL: 5 * time.Second, LockWait: 10 * time.Second, MergeRetryFor: 20 * time.Second,
	}}
	f.record()
	return f
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

// start runs the promoter until the test ends.
func (f *fixture) start() {
	f.t.Helper()
	cfg := githubapi.Config{OAuthToken: botToken, URL: f.gh.URL(), WriteRate: 1000, WriteBurst: 1000}
	if f.withAp {
		cfg.ApproverOAuthToken = approverToken
	}
	factory, err := githubapi.NewFactory(cfg, githubapi.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	svc, err := NewService(context.Background(), Deps{Config: f.cfg, Conn: f.conn, GitHub: githubapi.NewGitHub(factory, nil), Log: testLog()})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan error, 1)
	go func() { f.done <- svc.Run(ctx) }()
	f.t.Cleanup(func() { cancel(); <-f.done })
}

// merge commits changes to main as a person and returns the commit, which
// stands for a merge commit.
func (f *fixture) merge(changes map[string]*string) string {
	f.t.Helper()
	sha, err := f.gh.Push(repoName, "main", human, "change", changes)
	if err != nil {
		f.t.Fatal(err)
	}
	return sha
}

// origin opens a PR to stand for the origin PR (comments land on it).
func (f *fixture) origin(branch string) int {
	f.t.Helper()
	if _, err := f.gh.Push(repoName, branch, human, "origin", map[string]*string{"notes/" + branch: emulator.Content("x")}); err != nil {
		f.t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: human, Title: branch, Head: branch})
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// planned builds the planned event of the source/ -> target/ group for a
// merge, carrying components comps.
func planned(merge string, origin int, policy string, comps ...string) *events.PromotionPlanned {
	ev := &events.PromotionPlanned{
		RunID: events.PromotionRunID(testRepo, merge), MergeCommit: merge, DefaultBranch: "main",
		Origin: events.PromotionOrigin{Number: origin, Author: human, HeadRef: "change-" + strconv.Itoa(origin), HeadSHA: merge,
			Labels: []string{}, OriginalPrNumber: origin, OriginalPrAuthors: []string{human}, History: map[string]events.PromotionLevel{}},
		Group: events.PromotionGroup{Key: groupKey, SourcePath: "source/", Targets: []string{"target/"},
			RawTargets: []string{"target/"}, TargetDescription: "target/"},
		Policy: policy, Labels: []string{"promotion"},
		Skipped: []events.PromotionPair{}, Duplicates: []events.PromotionDuplicate{},
	}
	if policy == "perChange" {
		ev.Branch = prtext.PerChangeBranch(origin, ev.Origin.HeadRef, ev.Group.RawTargets)
	} else {
		ev.Branch = prtext.SupersedeBranch("source/", groupKey)
	}
	for _, c := range comps {
		ev.Components = append(ev.Components, events.PromotionComponent{SourceDir: "source/", Name: c})
		ev.Sync = append(ev.Sync, events.PromotionPair{SourceDir: "source/", TargetDir: "target/", Component: c})
	}
	return ev
}

// publish publishes ev as the planner would (id: the entry id), or under a
// fresh id when replay is set.
func (f *fixture) publish(ev *events.PromotionPlanned, replay bool) {
	f.t.Helper()
	id := events.PromotionEntryID(testRepo, ev.MergeCommit, ev.Group.Key)
	if replay {
		id = events.RandomID()
	}
	env, err := events.New(events.Meta{ID: id, Source: "planner", CorrelationID: "test", Repo: &testRepo, PR: ev.Origin.Number}, ev)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := (bus.Publisher{JS: f.conn.JS}).Publish(context.Background(), env); err != nil {
		f.t.Fatal(err)
	}
}

// finished waits for the n-th entry_finished event of a merge (n from 1).
func (f *fixture) finished(merge string, n int) *events.PromotionEntryFinished {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got := payloads[*events.PromotionEntryFinished](f, events.TypePromotionEntryFinished)
		count := 0
		for _, e := range got {
			if e.MergeCommit == merge {
				if count++; count == n {
					return e
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("no entry_finished #%d for %s", n, merge)
	return nil
}

// idle waits until the promoter has handled every planned event.
func (f *fixture) idle() {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := f.conn.JS.Consumer(context.Background(), events.StreamPromotion, Consumer)
		if err == nil {
			if info, err := c.Info(context.Background()); err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatal("the promoter did not become idle")
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

func (f *fixture) pr(n int) emulator.PullRequest {
	f.t.Helper()
	pr, err := f.gh.GetPullRequest(repoName, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return pr
}

func (f *fixture) botPRs() []emulator.PullRequest {
	f.t.Helper()
	prs, err := f.gh.PullRequests(repoName)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []emulator.PullRequest
	for _, p := range prs {
		if p.Author == botLogin {
			out = append(out, p)
		}
	}
	return out
}

func (f *fixture) comments(n int) []emulator.Comment {
	f.t.Helper()
	cs, err := f.gh.Comments(repoName, n)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func (f *fixture) file(ref, path string) string {
	f.t.Helper()
	s, err := f.gh.ReadFile(repoName, ref, path)
	if err != nil {
		return ""
	}
	return s
}
