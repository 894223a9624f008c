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

// prByHead returns the PR whose head is branch.
func prByHead(t *testing.T, prs []emulator.PullRequest, branch string) emulator.PullRequest {
	t.Helper()
	for _, pr := range prs {
		if pr.Head == branch {
			return pr
		}
	}
	t.Fatalf("no PR from %s among %d", branch, len(prs))
	return emulator.PullRequest{}
}

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
