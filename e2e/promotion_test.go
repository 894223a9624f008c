package e2e

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

const runTimeout = 30 * time.Second

// Paths of examples/gitops-repo.
const (
	workspaceNginx = "workspace/nginx"
	workspaceRedis = "workspace/redis"
	labNginx       = "clusters/lab/c1/nginx"
	stagingNginx   = "clusters/staging/c1/nginx"
	stagingRedis   = "clusters/staging/c1/redis"
	prodEUNginx    = "clusters/prod/eu-1/nginx"
	prodEURedis    = "clusters/prod/eu-1/redis"
	prodUSNginx    = "clusters/prod/us-1/nginx"
)

// singleOpenPR returns the one open promotion PR whose title names target.
func singleOpenPR(t *testing.T, h *Harness, target string) emulator.PullRequest {
	t.Helper()
	var found []emulator.PullRequest
	for _, pr := range h.OpenPromotionPRs() {
		if strings.HasSuffix(pr.Title, "➡️  "+target) {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one open promotion PR to %q, got %d: %+v", target, len(found), found)
	}
	return found[0]
}

func sameFiles(t *testing.T, h *Harness, refA, dirA, refB, dirB string) {
	t.Helper()
	a, b := Relative(h.Files(refA, dirA), dirA), Relative(h.Files(refB, dirB), dirB)
	if !maps.Equal(a, b) {
		t.Fatalf("%s@%s differs from %s@%s:\n%v\n%v", dirA, refA, dirB, refB, slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
	}
}

func TestThreeStageChainRunsToTheEnd(t *testing.T) {
	h := Start(t, Options{})
	nginx := Set("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  replicas: 3\n")
	redis := Set("apiVersion: v1\nkind: Service\nmetadata:\n  name: redis\nspec:\n  ports: [{port: 6380}]\n")
	origin, merge := h.MergeChange("bump-nginx", Change{
		workspaceNginx + "/deployment.yaml": nginx,
		workspaceRedis + "/service.yaml":    redis,
	})

	// Stage 1: workspace -> lab + staging, one PR, merged automatically.
	run1 := h.WaitRun(merge, runTimeout)
	if run1.State != githubapi.StateSuccess {
		t.Fatalf("first run: %+v", run1)
	}
	if got := h.Status(h.PR(origin).HeadSHA); got != githubapi.StateSuccess {
		t.Fatalf("origin PR status %q, want success", got)
	}
	stage2 := h.RunPRs(run1.RunID)
	if len(stage2) != 1 || !stage2[0].Merged {
		t.Fatalf("want one merged promotion PR, got %+v", stage2)
	}
	pr2 := stage2[0]
	if want := "🚀 Promotion: nginx,redis ➡️  lab and staging"; pr2.Title != want {
		t.Fatalf("title %q, want %q", pr2.Title, want)
	}
	if !slices.Equal(pr2.Labels, []string{"gitops", "promotion"}) && !slices.Equal(pr2.Labels, []string{"promotion", "gitops"}) {
		t.Fatalf("labels %v", pr2.Labels)
	}
	if !slices.Equal(pr2.Assignees, []string{Human}) {
		t.Fatalf("assignees %v", pr2.Assignees)
	}
	comments, err := h.GitHub.Comments(h.Repo, origin)
	if err != nil {
		t.Fatal(err)
	}
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "🚀 Merging promotion PR: #") {
		t.Fatalf("origin comments: %+v", comments)
	}
	for _, target := range []string{labNginx, stagingNginx} {
		sameFiles(t, h, "main", workspaceNginx, "main", target)
	}
	sameFiles(t, h, "main", workspaceRedis, "main", stagingRedis)

	// Stage 2: staging -> one PR per prod cluster, not merged.
	run2 := h.WaitRun(pr2.MergeCommitSHA, runTimeout)
	if run2.State != githubapi.StateSuccess || len(run2.Outcomes) != 2 {
		t.Fatalf("second run: %+v", run2)
	}
	eu := singleOpenPR(t, h, "prod eu-1")
	us := singleOpenPR(t, h, "prod us-1")
	if eu.Title != "🚀 Promotion: nginx,redis ➡️  prod eu-1" {
		t.Fatalf("eu title %q", eu.Title)
	}
	// redis blocks clusters/prod/us-*: the us-1 PR carries nginx only.
	if us.Title != "🚀 Promotion: nginx,redis ➡️  prod us-1" && us.Title != "🚀 Promotion: nginx ➡️  prod us-1" {
		t.Fatalf("us title %q", us.Title)
	}
	sameFiles(t, h, eu.Head, prodEUNginx, "main", stagingNginx)
	sameFiles(t, h, eu.Head, prodEURedis, "main", stagingRedis)
	sameFiles(t, h, us.Head, prodUSNginx, "main", stagingNginx)
	if files := h.Files(us.Head, "clusters/prod/us-1/redis"); len(files) != 0 {
		t.Fatalf("redis was promoted to us-1 despite its block list: %v", slices.Sorted(maps.Keys(files)))
	}
	md, err := metadata.Extract(eu.Body)
	if err != nil {
		t.Fatal(err)
	}
	if md.OriginalPrNumber != origin || !slices.Equal(md.OriginalPrAuthors, []string{Human}) {
		t.Fatalf("eu metadata does not carry the chain's origin: %+v", md)
	}
	if _, ok := md.PreviousPromotionPaths[itoa(origin)]; !ok {
		t.Fatalf("eu history lacks #%d: %+v", origin, md.PreviousPromotionPaths)
	}
	if _, ok := md.PreviousPromotionPaths[itoa(pr2.Number)]; !ok {
		t.Fatalf("eu history lacks #%d: %+v", pr2.Number, md.PreviousPromotionPaths)
	}
	if !strings.Contains(eu.Body, "↘️  #"+itoa(origin)+"  `workspace/` ➡️  ") {
		t.Fatalf("eu body lacks the chain history:\n%s", eu.Body)
	}

	// Stage 3: a person merges the eu-1 PR; the chain ends there.
	// Nothing is promoted from prod: the status goes straight to success.
	h.Merge(eu.Number)
	h.WaitSettled(runTimeout)
	if got := h.Status(eu.HeadSHA); got != githubapi.StateSuccess {
		t.Fatalf("status of the merged prod PR %q, want success", got)
	}
	sameFiles(t, h, "main", prodEUNginx, "main", workspaceNginx)
	if orphans := h.OrphanBranches(); len(orphans) != 0 {
		t.Fatalf("orphan branches: %v", orphans)
	}
	if dl := h.Recorder.Envelopes(events.TypeConsumerFailed); len(dl) != 0 {
		t.Fatalf("dead letters: %v", dl)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDeletionPromotesAsDeletion(t *testing.T) {
	h := Start(t, Options{})
	del := Change{}
	for p := range h.Files("main", workspaceRedis) {
		del[p] = nil
	}
	_, merge := h.MergeChange("drop-redis", del)
	run1 := h.WaitRun(merge, runTimeout)
	if run1.State != githubapi.StateSuccess {
		t.Fatalf("first run: %+v", run1)
	}
	for _, dir := range []string{"clusters/lab/c1/redis", stagingRedis} {
		if files := h.Files("main", dir); len(files) != 0 {
			t.Fatalf("%s still has %v", dir, slices.Sorted(maps.Keys(files)))
		}
	}
	sameFiles(t, h, "main", workspaceNginx, "main", labNginx) // untouched
	pr2 := h.RunPRs(run1.RunID)[0]
	run2 := h.WaitRun(pr2.MergeCommitSHA, runTimeout)
	if run2.State != githubapi.StateSuccess {
		t.Fatalf("second run: %+v", run2)
	}
	// eu-1 had redis: its deletion is promoted. us-1 never had it: nothing
	// to do there, so no PR.
	eu := singleOpenPR(t, h, "prod eu-1")
	if files := h.Files(eu.Head, prodEURedis); len(files) != 0 {
		t.Fatalf("the eu-1 PR keeps %v", slices.Sorted(maps.Keys(files)))
	}
	sameFiles(t, h, eu.Head, prodEUNginx, "main", prodEUNginx)
	if got := slices.Sorted(maps.Values(run2.Outcomes)); !slices.Equal(got, []string{events.OutcomeInSync, events.OutcomeOpened}) {
		t.Fatalf("second run outcomes: %v", run2.Outcomes)
	}
	if n := len(h.OpenPromotionPRs()); n != 1 {
		t.Fatalf("%d open promotion PRs, want 1", n)
	}
}

// snapshot is what must not change when events are handled again.
type snapshot struct {
	branches map[string]string
	prs      int
	commits  int64
	pulls    int64
}

func takeSnapshot(h *Harness) snapshot {
	h.T.Helper()
	branches, err := h.GitHub.Branches(h.Repo)
	if err != nil {
		h.T.Fatal(err)
	}
	return snapshot{branches: branches, prs: len(h.PRs()),
		commits: h.GitHub.Count("POST /repos/{owner}/{repo}/git/commits"),
		pulls:   h.GitHub.Count("POST /repos/{owner}/{repo}/pulls")}
}

func (s snapshot) mustEqual(t *testing.T, what string, o snapshot) {
	t.Helper()
	if !maps.Equal(s.branches, o.branches) || s.prs != o.prs || s.commits != o.commits || s.pulls != o.pulls {
		t.Fatalf("%s changed GitHub:\nbefore %+v\nafter  %+v", what, s, o)
	}
}

func TestRedeliveredAndReplayedWebhooksChangeNothing(t *testing.T) {
	h := Start(t, Options{})
	_, merge := h.MergeChange("bump", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 5\n")})
	h.WaitRun(merge, runTimeout)
	h.WaitSettled(runTimeout)
	if n := len(h.OpenPromotionPRs()); n != 2 {
		t.Fatalf("the chain opened %d prod PRs, want 2", n)
	}
	before := takeSnapshot(h)

	// GitHub redelivers every webhook twice, with the same delivery ids.
	n := h.RedeliverAll(2)
	h.WaitSettled(runTimeout)
	takeSnapshot(h).mustEqual(t, "redelivering "+itoa(n)+" webhooks twice", before)

	// The same events arrive again under new delivery ids (past ingress's
	// de-duplication): the planner's run records and the promoter's entry
	// records make them no-ops.
	h.ReplayStream(events.StreamGitHub, events.TypeGitHubDelivery)
	h.WaitSettled(runTimeout)
	takeSnapshot(h).mustEqual(t, "replaying every delivery", before)

	// The planner's events arrive again under new ids: the promoter's entry
	// records make them no-ops too.
	if n := h.ReplayStream(events.StreamPromotion, events.TypePromotionPlanned); n != 3 {
		t.Fatalf("replayed %d planned events, want 3", n)
	}
	h.WaitSettled(runTimeout)
	takeSnapshot(h).mustEqual(t, "replaying every planned promotion", before)
	if orphans := h.OrphanBranches(); len(orphans) != 0 {
		t.Fatalf("orphan branches: %v", orphans)
	}
}

func TestKilledPromoterFinishesWithoutOrphans(t *testing.T) {
	h := Start(t, Options{})
	const createPull = "POST /repos/{owner}/{repo}/pulls"
	// Long enough for the kill to come first; the emulator finishes a request
	// even when its client is gone, so it must end soon after the test.
	h.GitHub.SetRouteLatency(createPull, 3*time.Second)
	_, merge := h.MergeChange("staging-nginx", Change{stagingNginx + "/deployment.yaml": Set("replicas: 7\n")})
	h.Eventually("the promoter created a branch and is opening the PR", runTimeout, func() error {
		if h.GitHub.Count("POST /repos/{owner}/{repo}/git/refs") < 1 || h.GitHub.Count(createPull) < 1 {
			return errNotYet
		}
		return nil
	})
	h.KillService("promoter")
	h.GitHub.ClearLatency()
	if n := len(h.PromotionPRs()); n != 0 {
		t.Fatalf("%d promotion PRs exist before the restart", n)
	}
	h.StartService("promoter")

	run := h.WaitRun(merge, runTimeout)
	if run.State != githubapi.StateSuccess || len(run.Outcomes) != 2 {
		t.Fatalf("run: %+v", run)
	}
	h.WaitSettled(runTimeout)
	if orphans := h.OrphanBranches(); len(orphans) != 0 {
		t.Fatalf("orphan branches: %v", orphans)
	}
	prs := h.OpenPromotionPRs()
	if len(prs) != 2 {
		t.Fatalf("want 2 open promotion PRs, got %+v", prs)
	}
	// One commit per promotion: the restarted promoter adopted the commit
	// the killed one had written.
	if got := h.GitHub.Count("POST /repos/{owner}/{repo}/git/commits"); got != 2 {
		t.Fatalf("%d commits created for 2 promotions", got)
	}
	for _, pr := range prs {
		cluster := pr.Title[strings.LastIndex(pr.Title, "prod ")+len("prod "):]
		sameFiles(t, h, pr.Head, "clusters/prod/"+cluster+"/nginx", "main", stagingNginx)
	}
}

func TestQuickMergesToOneTargetEndInOnePR(t *testing.T) {
	h := Start(t, Options{})
	a := h.OpenChange("a", Change{stagingNginx + "/deployment.yaml": Set("replicas: 2\n")})
	b := h.OpenChange("b", Change{stagingRedis + "/service.yaml": Set("port: 6390\n")})
	mergeA, mergeB := h.Merge(a), h.Merge(b)
	h.WaitRun(mergeA, runTimeout)
	h.WaitRun(mergeB, runTimeout)
	h.WaitSettled(runTimeout)

	eu := singleOpenPR(t, h, "prod eu-1")
	md, err := metadata.Extract(eu.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(md.OriginPrs, []int{a, b}) {
		t.Fatalf("eu-1 PR carries origins %v, want [%d %d]", md.OriginPrs, a, b)
	}
	if !strings.Contains(eu.Body, "Includes changes from: #"+itoa(a)+", #"+itoa(b)) {
		t.Fatalf("eu-1 body:\n%s", eu.Body)
	}
	if eu.Title != "🚀 Promotion: nginx,redis ➡️  prod eu-1" {
		t.Fatalf("eu-1 title %q", eu.Title)
	}
	sameFiles(t, h, eu.Head, prodEUNginx, "main", stagingNginx)
	sameFiles(t, h, eu.Head, prodEURedis, "main", stagingRedis)
	us := singleOpenPR(t, h, "prod us-1")
	sameFiles(t, h, us.Head, prodUSNginx, "main", stagingNginx)
	if orphans := h.OrphanBranches(); len(orphans) != 0 {
		t.Fatalf("orphan branches: %v", orphans)
	}
}

func TestGitHubFaultsDelayButDoNotLosePromotions(t *testing.T) {
	h := Start(t, Options{})
	faults := []emulator.Fault{
		{Method: "GET", Route: "/repos/{owner}/{repo}/pulls/{number}/files", Kind: emulator.FaultServerError, Count: 1},
		{Method: "POST", Route: "/repos/{owner}/{repo}/statuses/{sha}", Kind: emulator.FaultSecondaryRateLimit, Count: 1, RetryAfter: 1},
		{Method: "POST", Route: "/repos/{owner}/{repo}/git/trees", Kind: emulator.FaultServerError, Status: 503, Count: 2},
		{Method: "POST", Route: "/repos/{owner}/{repo}/pulls", Kind: emulator.FaultSecondaryRateLimit, Count: 1, RetryAfter: 1},
		{Method: "GET", Route: "/repos/{owner}/{repo}/git/trees/{sha}", Kind: emulator.FaultPrimaryRateLimit, Count: 1, ResetIn: 1},
	}
	for _, f := range faults {
		if err := h.GitHub.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	origin, merge := h.MergeChange("staging-nginx", Change{stagingNginx + "/deployment.yaml": Set("replicas: 9\n")})
	run := h.WaitRun(merge, time.Minute)
	if run.State != githubapi.StateSuccess || len(run.Outcomes) != 2 {
		t.Fatalf("run: %+v", run)
	}
	if left := h.GitHub.Faults(); len(left) != 0 {
		t.Fatalf("faults not hit: %+v", left)
	}
	if got := h.Status(h.PR(origin).HeadSHA); got != githubapi.StateSuccess {
		t.Fatalf("origin status %q", got)
	}
	if n := len(h.OpenPromotionPRs()); n != 2 {
		t.Fatalf("%d open promotion PRs, want 2", n)
	}
	h.WaitSettled(time.Minute)
	if orphans := h.OrphanBranches(); len(orphans) != 0 {
		t.Fatalf("orphan branches: %v", orphans)
	}
}

// benchRepo is a repository with one flow, source/ -> target/, and one
// component, source/app, of files files spread over dirs directories.
func benchRepo(files, dirs int, policy string) map[string]string {
	repo := map[string]string{
		"telefonistka.yaml": "promotionPrPolicy: " + policy + "\npromotionPaths:\n  - sourcePath: source/\n    promotionPrs:\n      - targetPaths: [target/]\n",
	}
	for i := range files {
		repo["source/app/d"+itoa(i%dirs)+"/f"+itoa(i)+".yaml"] = "value: " + itoa(i) + "\n"
	}
	return repo
}

// BenchmarkCallsPerPromotionPR counts the GitHub calls (planner and
// promoter together, from merge to final status) per promotion PR, for
// components of 10, 100 and 1,000 files in 1, 10 and 100 directories. Each
// iteration merges a one-file change and opens a new PR (perChange) that
// syncs the whole component, since the target does not exist on main.
func BenchmarkCallsPerPromotionPR(b *testing.B) {
	for _, files := range []int{10, 100, 1000} {
		for _, dirs := range []int{1, 10, 100} {
			if dirs > files {
				continue
			}
			b.Run(itoa(files)+"files-"+itoa(dirs)+"dirs", func(b *testing.B) {
				h := Start(b, Options{RepoFiles: benchRepo(files, dirs, "perChange")})
				var total, writes int64
				for i := range b.N {
					before := h.GitHub.Counters()
					_, merge := h.MergeChange("change-"+itoa(i), Change{"source/app/d0/f0.yaml": Set("value: changed " + itoa(i) + "\n")})
					run := h.WaitRun(merge, runTimeout)
					if run.State != githubapi.StateSuccess || run.Outcomes[`source/>target/`] != events.OutcomeOpened {
						b.Fatalf("run: %+v", run)
					}
					c, w := callsSince(before, h.GitHub.Counters())
					total, writes = total+c, writes+w
				}
				b.ReportMetric(float64(total)/float64(b.N), "calls/PR")
				b.ReportMetric(float64(writes)/float64(b.N), "writes/PR")
				if testing.Verbose() {
					b.Logf("calls of the last runs: %v", h.GitHub.Counters())
				}
			})
		}
	}
}

// callsSince counts the HTTP calls (and, of them, the content-creating
// ones: REST writes and GraphQL mutations) between two snapshots of the
// emulator's counters. The per-field GraphQL counters ("GRAPHQL query
// repository") are not calls of their own.
func callsSince(before, after map[string]int64) (calls, writes int64) {
	for k, v := range after {
		if strings.HasPrefix(k, "GRAPHQL ") {
			if strings.HasPrefix(k, "GRAPHQL mutation ") {
				writes += v - before[k] // its call is the POST /graphql
			}
			continue
		}
		n := v - before[k]
		calls += n
		if isWrite(k) {
			writes += n
		}
	}
	return calls, writes
}

// BenchmarkMergeToPRLatency measures the time from a merge (through the
// emulator) to the promotion PR being open, with 0 ms and 50 ms of latency
// added to every GitHub call; it reports p50 and p99.
func BenchmarkMergeToPRLatency(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(latency.String(), func(b *testing.B) {
			h := Start(b, Options{RepoFiles: benchRepo(100, 10, "perChange")})
			h.GitHub.SetLatency(latency)
			samples := make([]time.Duration, 0, b.N)
			for i := range b.N {
				n := h.OpenChange("change-"+itoa(i), Change{"source/app/d0/f0.yaml": Set("value: changed " + itoa(i) + "\n")})
				start := time.Now()
				merge := h.Merge(n)
				run := h.WaitRun(merge, time.Minute)
				opened := openedAt(h, run.RunID)
				if opened.IsZero() {
					b.Fatalf("run %s opened no PR: %+v", run.RunID, run)
				}
				samples = append(samples, opened.Sub(start))
				if d := opened.Sub(start); d > 2*time.Second {
					b.Logf("slow promotion: run %s (merge %s) took %s", run.RunID, merge, d)
				}
			}
			slices.Sort(samples)
			b.ReportMetric(float64(percentile(samples, 50).Milliseconds()), "p50-ms")
			b.ReportMetric(float64(percentile(samples, 99).Milliseconds()), "p99-ms")
		})
	}
}

// openedAt is when the promoter published pr_opened for the run.
func openedAt(h *Harness, runID string) time.Time {
	for _, env := range h.Recorder.Envelopes(events.TypePromotionPROpened) {
		p, err := env.Payload()
		if err == nil && p.(*events.PromotionPROpened).RunID == runID {
			return env.Time
		}
	}
	return time.Time{}
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}
