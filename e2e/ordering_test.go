package e2e

import (
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// An older merge's promotion that runs after a newer merge's promotion was
// already merged (a retry after a GitHub fault) must not put the target
// back to the older version (issue 13).
func TestOlderMergeNeverRevertsANewerMergedPromotion(t *testing.T) {
	h := Start(t, Options{})
	a := h.OpenChange("older", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 2\n")})
	b := h.OpenChange("newer", Change{workspaceNginx + "/service.yaml": Set("port: 8080\n")})

	// The older merge's promotion cannot read its source tree until the
	// newer one is merged: GitHub answers it with a rate limit.
	mergeA := h.Merge(a)
	hold := emulator.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/git/trees/{sha}",
		Path: "/repos/" + h.Repo + "/git/trees/" + mergeA, Kind: emulator.FaultSecondaryRateLimit, RetryAfter: 1, Count: 1000}
	if err := h.GitHub.InjectFault(hold); err != nil {
		t.Fatal(err)
	}
	h.Eventually("the older promotion was held back", runTimeout, func() error {
		if f := h.GitHub.Faults(); len(f) == 1 && f[0].Count < hold.Count {
			return nil
		}
		return errNotYet
	})
	mergeB := h.Merge(b)
	runB := h.WaitRun(mergeB, runTimeout)
	if runB.Outcomes[workspaceKey] != events.OutcomeMerged {
		t.Fatalf("newer run: %+v", runB)
	}
	sameFiles(t, h, "main", labNginx, "main", workspaceNginx)

	// GitHub answers again: the older promotion runs now.
	h.GitHub.ClearFaults()
	h.WaitRun(mergeA, runTimeout)
	h.WaitSettled(runTimeout)
	for _, target := range []string{labNginx, stagingNginx} {
		sameFiles(t, h, "main", target, "main", workspaceNginx)
	}
	if got := h.readFile("main", labNginx+"/service.yaml"); got != "port: 8080\n" {
		t.Fatalf("lab nginx service on main is %q, want the newer merge's", got)
	}
}

const workspaceKey = "workspace/>clusters/lab/c1/|clusters/staging/c1/"

func (h *Harness) readFile(ref, path string) string {
	h.T.Helper()
	s, err := h.GitHub.ReadFile(h.Repo, ref, path)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

// Auto-merge merges only the head the promoter wrote: a commit someone else
// pushes to the promotion PR's branch just before the merge is not merged,
// and the PR and the origin PR say so (issue 13).
func TestAutoMergeNeverMergesAForeignPush(t *testing.T) {
	h := Start(t, Options{})
	const intruder = "mallory"
	var pushed string
	h.GitHub.OnNext("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", func() {
		open := h.OpenPromotionPRs()
		if len(open) != 1 {
			t.Errorf("want one open promotion PR at the merge, got %+v", open)
			return
		}
		sha, err := h.GitHub.Push(h.Repo, open[0].Head, intruder, "unreviewed", Change{labNginx + "/backdoor.yaml": Set("evil: true\n")})
		if err != nil {
			t.Error(err)
		}
		pushed = sha
	})
	origin, merge := h.MergeChange("bump", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 4\n")})
	run := h.WaitRun(merge, runTimeout)
	if pushed == "" {
		t.Fatal("nobody pushed to the promotion PR")
	}
	if run.State != githubapi.StateError || run.Outcomes[workspaceKey] != events.OutcomeFailed {
		t.Fatalf("run: %+v", run)
	}
	pr := singleOpenPR(t, h, "lab and staging")
	if pr.Merged || pr.HeadSHA != pushed {
		t.Fatalf("promotion PR: %+v", pr)
	}
	if files := h.Files("main", labNginx+"/backdoor.yaml"); len(files) != 0 {
		t.Fatalf("the unreviewed commit reached main: %v", files)
	}
	if got := h.Status(h.PR(origin).HeadSHA); got != githubapi.StateError {
		t.Fatalf("origin status %q, want error", got)
	}
	mustComment(t, h, pr.Number, "Someone else pushed to this PR's branch")
	mustComment(t, h, origin, "Could not merge promotion PR #"+itoa(pr.Number)+" automatically: someone else pushed to its branch")

	// The next merge of the group does not touch that branch: as under the
	// supersede rules, a new PR replaces it and is merged.
	_, merge2 := h.MergeChange("bump-again", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 5\n")})
	run2 := h.WaitRun(merge2, runTimeout)
	if run2.State != githubapi.StateSuccess || run2.Outcomes[workspaceKey] != events.OutcomeMerged {
		t.Fatalf("second run: %+v", run2)
	}
	if old := h.PR(pr.Number); old.State != "closed" || old.Merged || old.HeadSHA != pushed {
		t.Fatalf("the PR someone pushed to: %+v", old)
	}
	sameFiles(t, h, "main", labNginx, "main", workspaceNginx)
	h.WaitSettled(runTimeout)
}

// mustComment fails unless PR number has a comment containing text.
func mustComment(t *testing.T, h *Harness, number int, text string) {
	t.Helper()
	cs, err := h.GitHub.Comments(h.Repo, number)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if strings.Contains(c.Body, text) {
			return
		}
	}
	t.Fatalf("no comment on #%d contains %q: %+v", number, text, cs)
}

// The promise check at the end of every test finds a target that moved
// back, and accepts it once the origin PR shows a failure.
func TestPromiseCheckFindsATargetThatMovedBack(t *testing.T) {
	h := Start(t, Options{})
	old := h.Files("main", labNginx)
	origin, merge := h.MergeChange("bump", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 6\n")})
	h.WaitRun(merge, runTimeout)
	h.WaitSettled(runTimeout)
	if v := h.CheckPromise(); len(v) != 0 {
		t.Fatalf("violations after a clean promotion: %v", v)
	}

	// Someone puts lab back to the old version on main.
	back := Change{}
	for p, c := range old {
		back[p] = Set(c)
	}
	if _, err := h.GitHub.Push(h.Repo, "main", Human, "revert lab", back); err != nil {
		t.Fatal(err)
	}
	v := h.CheckPromise()
	if len(v) != 1 || v[0].Target != labNginx || v[0].Origin != origin || v[0].Source != workspaceNginx {
		t.Fatalf("violations: %v", v)
	}
	if err := h.GitHub.SetStatus(h.Repo, h.PR(origin).HeadSHA, Human, githubapi.StateError, githubapi.StatusContext, "failed"); err != nil {
		t.Fatal(err)
	}
	if v := h.CheckPromise(); len(v) != 0 {
		t.Fatalf("violations once the origin PR shows a failure: %v", v)
	}
}
