package drift

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const driftHeading = "# ⚠️  Found drift between environments ⚠️"

const stagingToProd = `promotionPaths:
  - sourcePath: "env/staging/"
    promotionPrs:
      - targetPaths: ["env/prod/"]
toggleCommitStatus:
  approve: "manual/approved"
  block: "security/review"
`

func fixture() map[string]string {
	return map[string]string{
		"telefonistka.yaml":             stagingToProd,
		"env/staging/nginx/values.yaml": "replicas: 1\nimage: nginx:1.25\n",
		"env/prod/nginx/values.yaml":    "replicas: 3\nimage: nginx:1.25\n",
		"env/staging/redis/values.yaml": "maxmemory: 1gb\n",
		"env/prod/redis/values.yaml":    "maxmemory: 1gb\n",
	}
}

func (h *harness) mainHead() string {
	h.t.Helper()
	b, err := h.emu.Branches(full)
	if err != nil {
		h.t.Fatal(err)
	}
	return b["main"]
}

func TestDriftCommentThenFixMinimisesIt(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{statusURL: "https://ci.example.com/{{.Owner}}/{{.Repo}}/pull/{{.PrNumber}}/{{.SHA}}\n"})
	pr := h.openPR("bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})
	head := h.pr(pr).HeadSHA
	if got := h.waitFinal(head); strings.Join(got, ",") != "pending,success" {
		t.Fatalf("status states = %v, want pending then success", got)
	}
	st := h.lastStatus(head)
	if want := fmt.Sprintf("https://ci.example.com/acme/gitops/pull/%d/%s", pr, head); st.URL != want || st.Description != githubapi.StatusDescription {
		t.Errorf("status URL %q and description %q, want %q and the default description", st.URL, st.Description, want)
	}
	drift := visible(h.botComments(pr), driftHeading)
	if len(drift) != 1 {
		t.Fatalf("got %d visible drift comments, want 1", len(drift))
	}
	main := h.mainHead()
	for _, want := range []string{
		githubapi.Marker + "\n" + driftHeading,
		"`env/staging/nginx` ↔️  `env/prod/nginx`",
		"```diff\n--- env/staging/nginx/values.yaml\n+++ env/prod/nginx/values.yaml\n@@ -1,2 +1,2 @@\n-replicas: 1\n+replicas: 3\n image: nginx:1.25\n```\n",
		"### Blame Links:\n[env/staging/nginx/values.yaml](https://github.com/acme/gitops/blame/" + main + "/env/staging/nginx/values.yaml)",
	} {
		if !strings.Contains(drift[0].Body, want) {
			t.Errorf("drift comment lacks %q:\n%s", want, drift[0].Body)
		}
	}
	if strings.Contains(drift[0].Body, "redis") {
		t.Error("the comment mentions a component the PR does not touch")
	}
	evs := h.driftEvents()
	if len(evs) != 1 || evs[0].Type != events.TypeDriftDetected || evs[0].PR != pr {
		t.Fatalf("drift events = %+v, want one drift.detected", evs)
	}
	var detected events.DriftDetected
	if err := evs[0].DecodeData(&detected); err != nil {
		t.Fatal(err)
	}
	if detected.ComparedSHA != main || len(detected.Pairs) != 1 || detected.Pairs[0] != (events.DriftPair{Source: "env/staging/nginx", Target: "env/prod/nginx", Changed: 1}) ||
		len(detected.CommentIDs) != 1 || detected.CommentIDs[0] != drift[0].ID {
		t.Fatalf("drift.detected = %+v", detected)
	}

	// The environments are brought back in line on main, then the PR gets
	// a new commit: the new check finds no drift and hides the old warning.
	h.push("main", map[string]*string{"env/prod/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.25\n")})
	h.push("bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.27\n")})
	head2 := h.pr(pr).HeadSHA
	if got := h.waitFinal(head2); strings.Join(got, ",") != "pending,success" {
		t.Fatalf("status states after the fix = %v", got)
	}
	h.waitIdle()
	comments := h.botComments(pr)
	if n := len(visible(comments, driftHeading)); n != 0 {
		t.Fatalf("%d drift comments still visible after the fix", n)
	}
	for _, c := range comments {
		if c.ID == drift[0].ID && (!c.Minimized || !strings.EqualFold(c.MinimizedReason, "OUTDATED")) {
			t.Fatalf("old drift comment: minimised=%v reason=%q", c.Minimized, c.MinimizedReason)
		}
	}
	evs = h.driftEvents()
	if len(evs) != 2 || evs[1].Type != events.TypeDriftCleared {
		t.Fatalf("drift events = %d, want drift.detected then drift.cleared", len(evs))
	}
	var cleared events.DriftCleared
	if err := evs[1].DecodeData(&cleared); err != nil || cleared.PreviousHeadSHA != head || cleared.HeadSHA != head2 {
		t.Fatalf("drift.cleared = %+v, %v", cleared, err)
	}
}
