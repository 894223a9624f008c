package planner

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

var update = flag.Bool("update", false, "rewrite golden files")

const repoConfig = `promotionPaths:
  - sourcePath: "workspace/"
    conditions:
      autoMerge: true
    promotionPrs:
      - targetDescription: "lab and staging"
        targetPaths: ["clusters/lab/", "clusters/staging/"]
  - sourcePath: "clusters/staging/"
    promotionPrs:
      - targetPaths: ["clusters/prod/eu/"]
      - targetPaths: ["clusters/prod/us/"]
promotionPrLabels: [gitops]
`

func repoFiles(cfg string) map[string]string {
	files := map[string]string{config.RepoFileName: cfg}
	for _, dir := range []string{"workspace", "clusters/lab", "clusters/staging", "clusters/prod/eu", "clusters/prod/us"} {
		files[dir+"/nginx/app.yaml"] = "nginx: 1\n"
		if dir != "clusters/prod/us" {
			files[dir+"/redis/app.yaml"] = "redis: 1\n"
			files[dir+"/redis/telefonistka.yaml"] = "promotionTargetBlockList: [\"prod/us\"]\n"
		}
	}
	return files
}

func set(s string) *string { return &s }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestRunStartedCarriesTheTrackerCommentKey(t *testing.T) {
	f := newFixture(t, repoFiles("promotionTrackerComment: true\n"+repoConfig))
	f.start()
	f.mergeChange("bump", map[string]*string{"workspace/nginx/app.yaml": set("nginx: 2\n")})
	var started []*events.PromotionRunStarted
	f.eventually("run_started", func() bool {
		started = payloads[*events.PromotionRunStarted](f, events.TypePromotionRunStarted)
		return len(started) == 1
	})
	if !started[0].TrackerComment {
		t.Fatalf("run_started of a repository with promotionTrackerComment: %+v", started[0])
	}
}

func TestMergedPRPublishesThePlan(t *testing.T) {
	f := newFixture(t, repoFiles(repoConfig))
	f.start()
	n, head, merge := f.mergeChange("bump", map[string]*string{
		"workspace/nginx/app.yaml": set("nginx: 2\n"), "workspace/redis/app.yaml": set("redis: 2\n"), "README.md": set("x\n"),
	})
	var planned []*events.PromotionPlanned
	f.eventually("planned events", func() bool {
		planned = payloads[*events.PromotionPlanned](f, events.TypePromotionPlanned)
		return len(planned) == 1
	})
	const key = "workspace/>clusters/lab/|clusters/staging/"
	started := payloads[*events.PromotionRunStarted](f, events.TypePromotionRunStarted)
	runID := events.PromotionRunID(testRepo, merge)
	if len(started) != 1 || started[0].RunID != runID || started[0].HeadSHA != head || !slices.Equal(started[0].Keys, []string{key}) ||
		started[0].TrackerComment {
		t.Fatalf("run_started: %+v", started)
	}
	p := planned[0]
	if p.RunID != runID || p.MergeCommit != merge || p.DefaultBranch != "main" || p.Policy != "supersede" ||
		p.Branch != prtext.SupersedeBranch("workspace/", key) || !p.AutoMerge || p.AutoApprove ||
		!slices.Equal(p.Labels, []string{"promotion", "gitops"}) || p.Group.TargetDescription != "lab and staging" {
		t.Fatalf("planned: %+v", p)
	}
	if p.Origin.Number != n || p.Origin.Author != human || p.Origin.HeadRef != "bump" || p.Origin.OriginalPrNumber != n ||
		!slices.Equal(p.Origin.OriginalPrAuthors, []string{human}) || len(p.Origin.History) != 0 {
		t.Fatalf("origin: %+v", p.Origin)
	}
	var targets []string
	for _, s := range p.Sync {
		targets = append(targets, s.TargetDir+s.Component)
	}
	want := []string{"clusters/lab/nginx", "clusters/lab/redis", "clusters/staging/nginx", "clusters/staging/redis"}
	if !slices.Equal(targets, want) || len(p.Components) != 2 {
		t.Fatalf("sync %v, components %+v", targets, p.Components)
	}
	envs := f.seen
	for _, e := range envs {
		if e.Type == events.TypePromotionPlanned && (e.ID != events.PromotionEntryID(testRepo, merge, key) || e.PR != n) {
			t.Fatalf("planned envelope: id %s pr %d", e.ID, e.PR)
		}
	}
	// No pending status: the final one, when the run ends, is the only write.
	if got := f.status(head); got != "" {
		t.Fatalf("status %q before the promoter reports, want none", got)
	}
	// The sync on the merge commit (the default branch head) travels with
	// the event, so the promoter need not read the trees.
	if b := p.Base; b == nil || b.Commit != merge || b.Tree == "" || b.InSync || len(b.Changes) != 4 {
		t.Fatalf("base %+v, want the 4 files synced onto the merge commit", p.Base)
	}
}

func TestRunFinishesWhenEveryEntryHasFinished(t *testing.T) {
	f := newFixture(t, repoFiles(repoConfig))
	f.start()
	for _, failed := range []bool{false, true} {
		n := f.openChange("run-"+strconv.FormatBool(failed), map[string]*string{"notes.md": set(strconv.FormatBool(failed))})
		head := f.pr(n).HeadSHA
		runID := "run-" + strconv.FormatBool(failed)
		keys := []string{"a/>b/", "a/>c/"}
		// Outcomes may arrive before the run is announced.
		f.publish(runID+"-1", n, &events.PromotionEntryFinished{RunID: runID, Key: keys[0], MergeCommit: "m", Outcome: events.OutcomeOpened, Number: 90})
		f.publish(runID, n, &events.PromotionRunStarted{RunID: runID, MergeCommit: "m", HeadSHA: head, Keys: keys})
		f.handled(events.StreamPromotion, RunsConsumer)
		if got := f.status(head); got != "" {
			t.Fatalf("status %q before every entry finished", got)
		}
		last := &events.PromotionEntryFinished{RunID: runID, Key: keys[1], MergeCommit: "m", Outcome: events.OutcomeMerged}
		if failed {
			last.Outcome, last.Error = events.OutcomeFailed, "creating a tree: 422 bad"
		}
		f.publish(runID+"-2", n, last)
		f.publish(runID+"-2-again", n, last) // a duplicate outcome changes nothing
		want := githubapi.StateSuccess
		if failed {
			want = githubapi.StateError
		}
		if got := f.finalStatus(head); got != want {
			t.Fatalf("status %q, want %q", got, want)
		}
		f.eventually("run_finished", func() bool {
			for _, r := range payloads[*events.PromotionRunFinished](f, events.TypePromotionRunFinished) {
				if r.RunID == runID {
					return r.State == want && len(r.Outcomes) == 2
				}
			}
			return false
		})
		cs := f.comments(n)
		if !failed && len(cs) != 0 {
			t.Fatalf("comments on a successful run: %+v", cs)
		}
		if failed {
			if len(cs) != 1 {
				t.Fatalf("comments: %+v", cs)
			}
			golden(t, "promotion-failed-comment", cs[0].Body)
		}
	}
}

func TestConfigErrorIsCommentedWithTheLine(t *testing.T) {
	f := newFixture(t, repoFiles("promotionPaths:\n  - sourcePath: \"work(space/\"\n    promotionPrs:\n      - targetPaths: [\"x/\"]\n"))
	f.start()
	n, head, _ := f.mergeChange("bump", map[string]*string{"workspace/nginx/app.yaml": set("nginx: 2\n")})
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q", got)
	}
	cs := f.comments(n)
	if len(cs) != 1 {
		t.Fatalf("comments: %+v", cs)
	}
	golden(t, "config-error-comment", cs[0].Body)
	if n := len(payloads[*events.PromotionRunStarted](f, events.TypePromotionRunStarted)); n != 0 {
		t.Fatalf("%d runs started despite the configuration error", n)
	}
}

// A directory named telefonistka.yaml was "no configuration" here (nothing
// promoted, nobody told); it is a configuration error like any other.
func TestADirectoryWhereTheConfigurationFileIsExpectedIsAConfigError(t *testing.T) {
	files := repoFiles(repoConfig)
	delete(files, "telefonistka.yaml")
	files["telefonistka.yaml/README.md"] = "not a configuration file\n"
	f := newFixture(t, files)
	f.start()
	n, head, _ := f.mergeChange("bump", map[string]*string{"workspace/nginx/app.yaml": set("nginx: 2\n")})
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q, want error", got)
	}
	cs := f.comments(n)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "telefonistka.yaml: (root): it is a directory, not a file") {
		t.Fatalf("comments: %+v", cs)
	}
}

func TestComponentConfigErrorFailsClosedForThatComponent(t *testing.T) {
	files := repoFiles(repoConfig)
	files["workspace/nginx/telefonistka.yaml"] = "promotionTargetBlockList: [\"(\"]\n"
	f := newFixture(t, files)
	f.start()
	n, _, _ := f.mergeChange("bump", map[string]*string{"workspace/nginx/app.yaml": set("nginx: 2\n"), "workspace/redis/app.yaml": set("redis: 2\n")})
	var planned []*events.PromotionPlanned
	f.eventually("planned events", func() bool {
		planned = payloads[*events.PromotionPlanned](f, events.TypePromotionPlanned)
		return len(planned) == 1
	})
	if len(planned[0].Components) != 1 || planned[0].Components[0].Name != "redis" {
		t.Fatalf("components: %+v", planned[0].Components)
	}
	if started := payloads[*events.PromotionRunStarted](f, events.TypePromotionRunStarted); started[0].ComponentErrors != 1 {
		t.Fatalf("run_started: %+v", started[0])
	}
	cs := f.comments(n)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "workspace/nginx/telefonistka.yaml:1:") {
		t.Fatalf("comments: %+v", cs)
	}
}

func TestDryRunCommentsThePlanInsteadOfPromoting(t *testing.T) {
	f := newFixture(t, repoFiles("dryRunMode: true\n"+repoConfig))
	f.start()
	n, head, _ := f.mergeChange("bump", map[string]*string{"clusters/staging/nginx/app.yaml": set("nginx: 2\n"), "clusters/staging/redis/app.yaml": set("redis: 2\n")})
	if got := f.finalStatus(head); got != githubapi.StateSuccess {
		t.Fatalf("status %q", got)
	}
	cs := f.comments(n)
	if len(cs) != 1 {
		t.Fatalf("comments: %+v", cs)
	}
	golden(t, "dry-run-comment", cs[0].Body)
	if n := len(f.seen); n != 0 {
		t.Fatalf("%d promotion events in dry-run mode", n)
	}
}

func TestShowPlanCommentsAnOpenPRsPlan(t *testing.T) {
	files := repoFiles(repoConfig)
	files["clusters/prod/eu/nginx/extra.yaml"] = "extra\n"
	f := newFixture(t, files)
	f.start()
	// prod/eu already has the file the PR adds: that entry is in sync.
	n := f.openChange("wip", map[string]*string{"clusters/staging/nginx/extra.yaml": set("extra\n")})
	if err := f.gh.AddLabels(repoName, n, human, ShowPlanLabel); err != nil {
		t.Fatal(err)
	}
	if got := f.finalStatus(f.pr(n).HeadSHA); got != githubapi.StateSuccess {
		t.Fatalf("status %q", got)
	}
	cs := f.comments(n)
	if len(cs) != 1 {
		t.Fatalf("comments: %+v", cs)
	}
	golden(t, "show-plan-comment", cs[0].Body)
}

func TestCycleGuardStopsDeepChains(t *testing.T) {
	md := metadata.Metadata{OriginalPrNumber: 1, OriginalPrAuthors: []string{human}, PreviousPromotionPaths: map[string]metadata.PromotionPath{}}
	for i := range metadata.MaxChainDepth {
		md.PreviousPromotionPaths[strconv.Itoa(i+1)] = metadata.PromotionPath{SourcePath: "workspace/", TargetPaths: []string{"clusters/staging/"}}
	}
	block, err := metadata.Block(md)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, repoFiles(repoConfig))
	f.start()
	if _, err := f.gh.Push(repoName, "deep", human, "change", map[string]*string{"clusters/staging/nginx/app.yaml": set("nginx: 4\n")}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: botLogin, Title: "deep", Head: "deep", Body: "Promotion path(nginx):\n\n" + block})
	if err != nil {
		t.Fatal(err)
	}
	head := f.pr(n).HeadSHA
	if _, err := f.gh.MergePullRequest(repoName, n, human); err != nil {
		t.Fatal(err)
	}
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q", got)
	}
	if cs := f.comments(n); len(cs) != 1 || !strings.Contains(cs[0].Body, "looks cyclic") {
		t.Fatalf("comments: %+v", cs)
	}
}

func TestTooManyChangedFilesAreNotPromoted(t *testing.T) {
	f := newFixture(t, repoFiles(repoConfig))
	f.start()
	change := map[string]*string{}
	for i := range MaxListedFiles + 1 {
		change["workspace/nginx/f"+strconv.Itoa(i)+".yaml"] = set("x\n")
	}
	n, head, _ := f.mergeChange("huge", change)
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q", got)
	}
	if cs := f.comments(n); len(cs) != 1 || !strings.Contains(cs[0].Body, "too large to promote automatically") {
		t.Fatalf("comments: %+v", cs)
	}
	if n := len(payloads[*events.PromotionPlanned](f, events.TypePromotionPlanned)); n != 0 {
		t.Fatalf("%d entries planned for a truncated file list", n)
	}
}

func TestAPlannedEntryThePromoterGaveUpOnFailsTheRun(t *testing.T) {
	f := newFixture(t, repoFiles(repoConfig))
	f.start()
	n := f.openChange("dead", map[string]*string{"notes.md": set("dead\n")})
	head := f.pr(n).HeadSHA
	const runID, key = "run-dead", "a/>b/"
	f.publish(runID, n, &events.PromotionRunStarted{RunID: runID, MergeCommit: "m", HeadSHA: head, Keys: []string{key}})
	env, err := events.New(events.Meta{ID: "planned-dead", Source: "test", Repo: &testRepo, PR: n},
		&events.PromotionPlanned{RunID: runID, MergeCommit: "m", Group: events.PromotionGroup{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	pub := bus.Publisher{JS: f.conn.JS}
	stored, err := pub.Publish(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := events.New(events.Meta{ID: "dl", Source: "promoter", Repo: &testRepo, PR: n}, &events.ConsumerFailed{
		Consumer: "promoter", Stream: stored.Stream, StreamSequence: stored.Sequence, Subject: "promotion.planned.acme.gitops",
		Deliveries: 10, Reason: events.FailedMaxDeliveries, Error: "storing promotion entry: timeout",
		OriginalID: env.ID, OriginalType: events.TypePromotionPlanned,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.PublishOn(t.Context(), events.DeadLetterSubject("promoter", &testRepo), dl); err != nil {
		t.Fatal(err)
	}
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q", got)
	}
	if cs := f.comments(n); len(cs) != 1 || !strings.Contains(cs[0].Body, key+": the promoter gave up: storing promotion entry: timeout") {
		t.Fatalf("comments: %+v", cs)
	}
}

// commentsRoute is the emulator's counter key of posting a comment.
const commentsRoute = "/repos/{owner}/{repo}/issues/{number}/comments"

// A delivery that fails after posting a comment is retried; the retry must
// not post that comment again. Here the dry-run merge posts the component
// error comment, then GitHub fails the plan comment once: before the fix the
// retry posted the component error comment a second time (3 comments where
// 2 were expected).
func TestARetriedDeliveryPostsItsCommentsOnce(t *testing.T) {
	files := repoFiles("dryRunMode: true\n" + repoConfig)
	files["workspace/nginx/telefonistka.yaml"] = "promotionTargetBlockList: [\"(\"]\n"
	f := newFixture(t, files)
	f.gh.OnNext("POST", commentsRoute, func() {
		// While the first comment is posted: the next one fails once.
		if err := f.gh.InjectFault(emulator.Fault{Method: "POST", Route: commentsRoute, Kind: emulator.FaultServerError, Count: 1}); err != nil {
			t.Error(err)
		}
	})
	f.start()
	n, head, _ := f.mergeChange("bump", map[string]*string{"workspace/nginx/app.yaml": set("nginx: 2\n"), "workspace/redis/app.yaml": set("redis: 2\n")})
	if got := f.finalStatus(head); got != githubapi.StateError {
		t.Fatalf("status %q, want error (a component has errors)", got)
	}
	f.handled(events.StreamGitHub, events.ConsumerPlanner)
	cs := f.comments(n)
	if len(cs) != 2 || !strings.Contains(cs[0].Body, "workspace/nginx/telefonistka.yaml:1:") || !strings.Contains(cs[1].Body, "redis") {
		for _, c := range cs {
			t.Logf("comment:\n%s", c.Body)
		}
		t.Fatalf("%d comments, want 2: the component errors, then the plan", len(cs))
	}
	if got := f.gh.Count("POST " + commentsRoute); got != 3 {
		t.Errorf("%d comment posts, want 3 (two, and one that GitHub failed)", got)
	}
}
