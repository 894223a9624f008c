package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
)

// The Argo CD diff through ingress: signed webhooks from the emulator reach
// argodiff (with drift, which shares the commit status) over JetStream;
// argodiff reads the test Argo CD server, which renders the applications'
// manifests from the emulator's repository.

func argoDeployment(replicas int, note string) string {
	return fmt.Sprintf("# %s\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  replicas: %d\n", note, replicas)
}

func argoRepo() map[string]string {
	return map[string]string{
		"telefonistka.yaml": `promotionPaths:
  - sourcePath: "workspace/"
    promotionPrs:
      - targetPaths: ["clusters/staging/"]
  - sourcePath: "clusters/staging/"
    promotionPrs:
      - targetPaths: ["clusters/prod/"]
argocd:
  commentDiffonPR: true
  autoMergeNoDiffPRs: true
  allowSyncfromBranchPathRegex: "^clusters/"
`,
		"workspace/nginx/deploy.yaml":        argoDeployment(2, "nginx"),
		"clusters/staging/nginx/deploy.yaml": argoDeployment(2, "nginx"),
		"clusters/prod/nginx/deploy.yaml":    argoDeployment(2, "nginx"),
	}
}

const argoFixture = `
settings: {url: "https://argocd.example.com", trackingMethod: annotation}
applications:
  - metadata:
      name: nginx-staging
      annotations: {argocd.argoproj.io/manifest-generate-paths: .}
    spec:
      source: {repoURL: "https://github.com/acme/gitops", path: clusters/staging/nginx, targetRevision: HEAD}
      destination: {namespace: web}
      syncPolicy: {automated: {}}
  - metadata:
      name: nginx-prod
      annotations: {argocd.argoproj.io/manifest-generate-paths: .}
    spec:
      source: {repoURL: "https://github.com/acme/gitops", path: clusters/prod/nginx, targetRevision: HEAD}
      destination: {namespace: web}
      syncPolicy: {automated: {}}
`

func startArgoDiff(t *testing.T) (*Harness, *argocdemu.Server) {
	t.Helper()
	f, err := argocdemu.ParseFixture([]byte(argoFixture))
	if err != nil {
		t.Fatal(err)
	}
	// The Argo CD server reads the emulator, which Start creates: argodiff
	// and the services that feed it start once the server runs.
	h := Start(t, Options{RepoFiles: argoRepo(), Services: []string{"drift"}, EventTimeout: time.Minute})
	src, err := argocdemu.NewGitHubSource(h.GitHub.URL(), BotToken)
	if err != nil {
		t.Fatal(err)
	}
	argo := argocdemu.New(f, argocdemu.Options{Token: "argo-token", Source: src})
	if err := argo.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = argo.Close() })
	t.Setenv("ARGOCD_SERVER_ADDR", argo.Addr())
	t.Setenv("ARGOCD_PLAINTEXT", "true")
	t.Setenv("ARGOCD_TOKEN", "argo-token")
	for _, s := range []string{"planner", "promoter", "argodiff", "ingress"} {
		h.StartService(s)
	}
	return h, argo
}

func botCommentsWith(h *Harness, n int, text string) []string {
	h.T.Helper()
	cs, err := h.GitHub.Comments(h.Repo, n)
	if err != nil {
		h.T.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if c.Author == BotLogin && strings.Contains(c.Body, text) {
			out = append(out, c.Body)
		}
	}
	return out
}

func TestArgoDiffCommentCheckboxAndReset(t *testing.T) {
	h, argo := startArgoDiff(t)
	n := h.OpenChange("more-replicas", Change{"clusters/staging/nginx/deploy.yaml": Set(argoDeployment(3, "nginx"))})
	head := h.PR(n).HeadSHA
	h.Eventually("the telefonistka status to end", time.Minute, func() error {
		if st := h.Status(head); st != githubapi.StateSuccess {
			return fmt.Errorf("status %q", st)
		}
		return nil
	})
	diffs := botCommentsWith(h, n, "Diff of ArgoCD applications")
	if len(diffs) != 1 || !strings.Contains(diffs[0], "@@ spec.replicas @@\n! ± value change\n- 2\n+ 3") ||
		!strings.Contains(diffs[0], "**[nginx-staging](https://argocd.example.com/applications/nginx-staging)** @ `clusters/staging/nginx`") {
		t.Fatalf("diff comments %q", diffs)
	}

	// Ticking the checkbox deploys the PR branch; closing the PR resets it.
	cs, err := h.GitHub.Comments(h.Repo, n)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var body string
	for _, c := range cs {
		if strings.Contains(c.Body, "<!-- telefonistka-argocd-branch-sync -->") {
			id, body = c.ID, c.Body
		}
	}
	ticked := strings.Replace(body, "- [ ] <!-- telefonistka-argocd-branch-sync -->", "- [x] <!-- telefonistka-argocd-branch-sync -->", 1)
	if id == 0 || ticked == body {
		t.Fatalf("no checkbox in %q", body)
	}
	if err := h.GitHub.EditComment(h.Repo, id, BotLogin, ticked); err != nil {
		t.Fatal(err)
	}
	h.Eventually("nginx-staging to deploy the PR branch", 30*time.Second, func() error {
		if rev := argo.App("nginx-staging").Spec.Source.TargetRevision; rev != "more-replicas" {
			return fmt.Errorf("targetRevision %q", rev)
		}
		return nil
	})
	if err := h.GitHub.ClosePullRequest(h.Repo, n, Human); err != nil {
		t.Fatal(err)
	}
	h.Eventually("nginx-staging to be reset to HEAD", 30*time.Second, func() error {
		if rev := argo.App("nginx-staging").Spec.Source.TargetRevision; rev != "HEAD" {
			return fmt.Errorf("targetRevision %q", rev)
		}
		return nil
	})
	h.WaitSettled(30 * time.Second)
	if got := argo.Counters()["ApplicationService/Patch"]; got != 2 {
		t.Fatalf("want exactly 2 patches (deploy, reset), got %d", got)
	}
}

func TestArgoDiffNoDiffPromotionsAutoMergeAlongTheChain(t *testing.T) {
	h, _ := startArgoDiff(t)
	// Only a YAML comment changes: Argo CD sees the same objects at every
	// stage, so each promotion PR has no diff and is merged.
	_, merge := h.MergeChange("reformat", Change{"workspace/nginx/deploy.yaml": Set(argoDeployment(2, "nginx, reformatted"))})
	h.WaitRun(merge, time.Minute)
	h.Eventually("both promotion PRs to be merged", 2*time.Minute, func() error {
		merged := 0
		for _, pr := range h.PromotionPRs() {
			if pr.Merged {
				merged++
			}
		}
		if merged < 2 {
			return fmt.Errorf("%d of 2 promotion PRs merged", merged)
		}
		return nil
	})
	h.WaitSettled(30 * time.Second)
	prs := h.PromotionPRs()
	if len(prs) != 2 {
		t.Fatalf("want 2 promotion PRs, got %d", len(prs))
	}
	for _, pr := range prs {
		if !strings.Contains(strings.Join(pr.Labels, ","), "noop") || len(botCommentsWith(h, pr.Number, "No diff 🤷")) != 1 {
			t.Errorf("promotion PR #%d: labels %v, want noop and one no-diff comment", pr.Number, pr.Labels)
		}
	}
	if got := h.Files("main", "clusters/prod/nginx")["clusters/prod/nginx/deploy.yaml"]; !strings.Contains(got, "reformatted") {
		t.Fatalf("the change did not reach prod: %q", got)
	}
}
