package argodiff

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
)

func TestDiffCommentStatusAndEvent(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	n, sha := h.openPR("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3))}, "")
	states := h.waitFinal(sha)
	if got := strings.Join(states, ","); got != "pending,success" {
		t.Fatalf("statuses %s", got)
	}
	cs := h.botComments(n, "Diff of ArgoCD applications")
	if len(cs) != 1 {
		t.Fatalf("want one diff comment, got %d", len(cs))
	}
	body := cs[0].Body
	for _, want := range []string{
		"**[nginx-staging](https://argocd.example.com/applications/nginx-staging)** @ `clusters/staging/nginx`",
		"web/Deployment/nginx:", "@@ spec.replicas @@", "- 2\n+ 3",
		"- [ ] <!-- telefonistka-argocd-branch-sync --> Set ArgoCD apps Target Revision to `more-replicas`",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if h.pr(n).Labels != nil && strings.Contains(strings.Join(h.pr(n).Labels, ","), LabelNoop) {
		t.Error("a PR with a diff must not be labelled noop")
	}
	h.waitIdle()
	var commented *events.ArgoDiffCommented
	for _, env := range h.argoEvents() {
		if env.Type == events.TypeArgoDiffCommented {
			commented = &events.ArgoDiffCommented{}
			if err := env.DecodeData(commented); err != nil {
				t.Fatal(err)
			}
		}
	}
	if commented == nil || len(commented.Components) != 1 || commented.Components[0].Result != events.ArgoDiffChanged ||
		commented.Components[0].Objects != 1 || len(commented.CommentIDs) != 1 {
		t.Fatalf("argodiff.commented = %+v", commented)
	}
	c := h.argo.Counters()
	if c["refresh/nginx-staging"] != 1 || c["ApplicationService/GetManifests"] != 1 || c["ApplicationService/ManagedResources"] != 1 {
		t.Fatalf("Argo CD calls %v", c)
	}
}

func TestRedeliveryPostsNothingTwice(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	n, sha := h.openPR("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3))}, "")
	h.waitFinal(sha)
	h.waitIdle()
	var opened string
	for _, d := range h.emu.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			opened = d.GUID
		}
	}
	if _, err := h.emu.Redeliver(opened); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	if cs := h.botComments(n, "Diff of ArgoCD applications"); len(cs) != 1 {
		t.Fatalf("a redelivered run posted again: %d comments", len(cs))
	}
}

// promotionBody is a promotion PR body whose metadata promotes the prod
// component.
func promotionBody(t *testing.T, paths ...string) string {
	t.Helper()
	md := metadata.Metadata{OriginalPrAuthor: human, OriginalPrNumber: 1, PromotedPaths: paths}
	block, err := metadata.Block(md)
	if err != nil {
		t.Fatal(err)
	}
	return "Promotion path(nginx):\n\n" + block
}

func TestNoDiffPromotionIsLabelledAndMerged(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	// Only a YAML comment changes: Argo CD sees the same objects.
	changed := strings.Replace(deployment("nginx", 2), "# nginx", "# nginx, reformatted", 1)
	n, sha := h.openPR("promotions/prod", map[string]*string{"clusters/prod/nginx/deploy.yaml": str(changed)},
		promotionBody(t, "clusters/prod/nginx"), LabelPromotion)
	h.eventually(func() bool { return h.pr(n).Merged }, "the no-diff promotion PR to be merged")
	if states := h.waitFinal(sha); states[len(states)-1] != "success" {
		t.Fatalf("statuses %v", states)
	}
	pr := h.pr(n)
	if !strings.Contains(strings.Join(pr.Labels, ","), LabelNoop) {
		t.Fatalf("labels %v, want noop", pr.Labels)
	}
	cs := h.botComments(n, "No diff 🤷")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "nginx-prod") || !strings.Contains(cs[0].Body, "doesn't have auto-sync enabled") {
		t.Fatalf("comments %v", cs)
	}
	// The PR says why it was merged, once.
	why := h.botComments(n, "Merging this promotion PR automatically: the Argo CD diff is empty")
	if len(why) != 1 || !strings.Contains(why[0].Body, "`clusters/prod/nginx`: **[nginx-prod]") {
		t.Fatalf("auto-merge comments %v", why)
	}
}

// A promotion PR merged (by a person, or the promoter's auto-merge) before
// its diff finished is left as it is: no noop label, no auto-merge comment,
// and the status is not an error.
func TestPromotionMergedBeforeItsDiffIsLeftAsItIs(t *testing.T) {
	h := newHarness(t)
	changed := strings.Replace(deployment("nginx", 2), "# nginx", "# nginx, reformatted", 1)
	n, sha := h.openPR("promotions/prod", map[string]*string{"clusters/prod/nginx/deploy.yaml": str(changed)},
		promotionBody(t, "clusters/prod/nginx"), LabelPromotion)
	if _, err := h.emu.MergePullRequest(full, n, human); err != nil {
		t.Fatal(err)
	}
	if err := h.emu.WaitWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.start(options{})
	if states := h.waitFinal(sha); states[len(states)-1] != "success" {
		t.Fatalf("statuses %v", states)
	}
	if labels := strings.Join(h.pr(n).Labels, ","); strings.Contains(labels, LabelNoop) {
		t.Fatalf("labels %s: a merged PR gets no noop label", labels)
	}
	if why := h.botComments(n, "Merging this promotion PR automatically"); len(why) != 0 {
		t.Fatalf("auto-merge comments on a PR merged by a person: %v", why)
	}
}

func TestNoopLabelRemovedWhenALaterRunHasADiff(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	changed := strings.Replace(deployment("nginx", 2), "# nginx", "# comment only", 1)
	n, sha := h.openPR("tweak", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(changed)}, "")
	h.waitFinal(sha)
	if !strings.Contains(strings.Join(h.pr(n).Labels, ","), LabelNoop) || h.pr(n).Merged {
		t.Fatalf("a no-diff PR without the promotion label gets noop and is not merged: %+v", h.pr(n))
	}
	sha = h.push("tweak", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 4))})
	h.waitFinal(sha)
	if strings.Contains(strings.Join(h.pr(n).Labels, ","), LabelNoop) {
		t.Fatalf("noop must be removed once the PR has a diff: %v", h.pr(n).Labels)
	}
}

func TestArgoCDOutageDelaysThenComments(t *testing.T) {
	h := newHarness(t)
	h.start(options{cfg: Config{MaxDeliver: 5}, callTimeout: 300 * time.Millisecond})
	// Two deliveries fail: the list hangs past the call deadline, then
	// the server is unavailable.
	if err := h.argo.AddFault(argocdemu.Fault{Method: "ApplicationService/List", Code: argocdemu.FaultHang}); err != nil {
		t.Fatal(err)
	}
	if err := h.argo.AddFault(argocdemu.Fault{Method: "ApplicationService/List", Code: "Unavailable", Count: 2}); err != nil {
		t.Fatal(err)
	}
	n, sha := h.openPR("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3))}, "")
	if states := h.waitFinal(sha); states[len(states)-1] != "success" {
		t.Fatalf("statuses %v", states)
	}
	if cs := h.botComments(n, "@@ spec.replicas @@"); len(cs) != 1 {
		t.Fatalf("want one diff comment after the outage, got %d", len(cs))
	}
	if cs := h.botComments(n, "Error getting diff"); len(cs) != 0 {
		t.Fatal("a transient outage must not be commented as an error")
	}
}

func TestLastDeliveryCommentsTheErrorAndEndsTheStatus(t *testing.T) {
	h := newHarness(t)
	h.start(options{cfg: Config{MaxDeliver: 2}, callTimeout: 300 * time.Millisecond})
	if err := h.argo.AddFault(argocdemu.Fault{Method: "ApplicationService/GetManifests", Code: "Unavailable", Count: 100}); err != nil {
		t.Fatal(err)
	}
	n, sha := h.openPR("more-replicas", map[string]*string{
		"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3)),
		"clusters/staging/redis/deploy.yaml": str(deployment("redis", 1)),
	}, "")
	if states := h.waitFinal(sha); states[len(states)-1] != "error" {
		t.Fatalf("statuses %v", states)
	}
	cs := h.botComments(n, "Diff of ArgoCD applications")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "**Error getting diff from ArgoCD** (`clusters/staging/nginx`)") ||
		!strings.Contains(cs[0].Body, "Unavailable") {
		t.Fatalf("comments %v", cs)
	}
}

func TestNewComponentPreviewedWithATemporaryApp(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	n, sha := h.openPR("redis", map[string]*string{"clusters/staging/redis/deploy.yaml": str(deployment("redis", 1))}, "")
	h.waitFinal(sha)
	cs := h.botComments(n, "temporarily created an ArgoCD app")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "temp-redis-staging") {
		t.Fatalf("comments %v", cs)
	}
	// disableArgoCDDiff: the objects are listed, their text redacted.
	if !strings.Contains(cs[0].Body, "redis/Deployment/redis:\n✂️ ✂️  Redacted ✂️ ✂️ ") || strings.Contains(cs[0].Body, "replicas") {
		t.Fatalf("the redis component must be redacted:\n%s", cs[0].Body)
	}
	if h.argo.App("temp-redis-staging") != nil {
		t.Fatal("the temporary app must be deleted after a successful diff")
	}
}

func TestNoArgoCDConnectionCommentsOnce(t *testing.T) {
	h := newHarness(t)
	h.start(options{noArgoCD: true})
	n, sha := h.openPR("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3))}, "")
	if states := h.waitFinal(sha); states[len(states)-1] != "error" {
		t.Fatalf("statuses %v", states)
	}
	sha = h.push("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 4))})
	h.waitFinal(sha)
	if cs := h.botComments(n, "has no Argo CD connection"); len(cs) != 1 {
		t.Fatalf("want exactly one notice, got %d", len(cs))
	}
}

func TestCheckboxDeploysBranchAndCloseResets(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	n, sha := h.openPR("more-replicas", map[string]*string{"clusters/staging/nginx/deploy.yaml": str(deployment("nginx", 3))}, "")
	h.waitFinal(sha)
	cs := h.botComments(n, BranchSyncMarker)
	if len(cs) != 1 {
		t.Fatalf("want the checkbox comment, got %d", len(cs))
	}
	ticked := strings.Replace(cs[0].Body, "- [ ] "+BranchSyncMarker, "- [x] "+BranchSyncMarker, 1)
	if err := h.emu.EditComment(full, cs[0].ID, botLogin, ticked); err != nil {
		t.Fatal(err)
	}
	h.eventually(func() bool { return h.argo.App("nginx-staging").Spec.Source.TargetRevision == "more-replicas" }, "the app to deploy the branch")
	h.waitIdle()
	patches := h.argo.Counters()["ApplicationService/Patch"]
	// Editing the ticked comment again (or a redelivery) patches nothing.
	if err := h.emu.EditComment(full, cs[0].ID, botLogin, ticked+" "); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	if got := h.argo.Counters()["ApplicationService/Patch"]; got != patches {
		t.Fatalf("patched again: %d -> %d", patches, got)
	}
	if err := h.emu.ClosePullRequest(full, n, human); err != nil {
		t.Fatal(err)
	}
	h.eventually(func() bool { return h.argo.App("nginx-staging").Spec.Source.TargetRevision == "HEAD" }, "the app to be reset to HEAD")
	if got := h.argo.App("nginx-prod").Spec.Source.TargetRevision; got != "HEAD" {
		t.Fatalf("an app of another component was touched: %s", got)
	}
}

func TestCheckboxOfAnotherAuthorIsIgnored(t *testing.T) {
	if !newlyTicked("- [ ] "+BranchSyncMarker+" x", "  - [x] "+BranchSyncMarker+" x") {
		t.Fatal("ticking must be seen")
	}
	for _, c := range [][2]string{
		{"- [x] " + BranchSyncMarker, "- [x] " + BranchSyncMarker},
		{"- [x] " + BranchSyncMarker, "- [ ] " + BranchSyncMarker},
		{"- [ ] " + BranchSyncMarker, "text - [x] " + BranchSyncMarker},
		{"no box", "- [x] <!-- other -->"},
	} {
		if newlyTicked(c[0], c[1]) {
			t.Errorf("%q -> %q must not count as ticking", c[0], c[1])
		}
	}
}

// A component configuration over 1 MB (which GitHub's contents API answers
// without its content) is read as a blob, so its disableArgoCDDiff holds.
func TestComponentConfigOverOneMegabyteIsRead(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	big := "disableArgoCDDiff: true\n" + strings.Repeat("# padding to pass GitHub's 1 MB contents limit\n", 25000)
	n, sha := h.openPR("more-replicas", map[string]*string{
		"clusters/staging/nginx/deploy.yaml":       str(deployment("nginx", 3)),
		"clusters/staging/nginx/telefonistka.yaml": str(big),
	}, "")
	if states := h.waitFinal(sha); states[len(states)-1] != "success" {
		t.Fatalf("statuses %v", states)
	}
	cs := h.botComments(n, "Diff of ArgoCD applications")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "web/Deployment/nginx:\n✂️ ✂️  Redacted ✂️ ✂️ ") || strings.Contains(cs[0].Body, "spec.replicas") {
		t.Fatalf("the nginx component must be redacted: %v", cs)
	}
}

// A directory where a component's telefonistka.yaml is expected fails the
// component, naming the path, instead of counting as no configuration
// (which would show a diff its owners may have redacted).
func TestDirectoryWhereComponentConfigIsExpectedFailsTheComponent(t *testing.T) {
	h := newHarness(t)
	h.start(options{})
	n, sha := h.openPR("more-replicas", map[string]*string{
		"clusters/staging/nginx/deploy.yaml":                 str(deployment("nginx", 3)),
		"clusters/staging/nginx/telefonistka.yaml/notes.txt": str("not a configuration\n"),
	}, "")
	if states := h.waitFinal(sha); states[len(states)-1] != "error" {
		t.Fatalf("statuses %v", states)
	}
	cs := h.botComments(n, "Diff of ArgoCD applications")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "clusters/staging/nginx/telefonistka.yaml") ||
		!strings.Contains(cs[0].Body, "is a directory") || strings.Contains(cs[0].Body, "spec.replicas") {
		t.Fatalf("the nginx component must fail naming the directory: %v", cs)
	}
}
