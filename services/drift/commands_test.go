package drift

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const commentsRoute = "/repos/{owner}/{repo}/issues/{number}/comments"

func (h *harness) comment(pr int, login, body string) int64 {
	h.t.Helper()
	id, err := h.emu.Comment(full, pr, login, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func driftPR(h *harness) (int, string) {
	h.t.Helper()
	pr := h.openPR("bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})
	head := h.pr(pr).HeadSHA
	h.waitFinal(head)
	h.waitIdle()
	return pr, head
}

func TestRetriggerRerunsTheChecksWithCurrentLabels(t *testing.T) {
	files := fixture()
	// With the fast-track label, staging promotes to prod-fast instead.
	files["telefonistka.yaml"] = `promotionPaths:
  - sourcePath: "env/staging/"
    conditions:
      prHasLabels: ["fast-track"]
    promotionPrs:
      - targetPaths: ["env/prod-fast/"]
  - sourcePath: "env/staging/"
    promotionPrs:
      - targetPaths: ["env/prod/"]
`
	files["env/prod-fast/nginx/values.yaml"] = "replicas: 5\nimage: nginx:1.25\n"
	h := newHarness(t, files)
	h.start(options{})
	pr, head := driftPR(h)
	first := visible(h.botComments(pr), driftHeading)
	if len(first) != 1 || !strings.Contains(first[0].Body, "`env/prod/nginx`") {
		t.Fatalf("before /retrigger: %+v", first)
	}
	// A label added after the last check is used by the re-run.
	if err := h.emu.AddLabels(full, pr, human, "fast-track"); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	h.comment(pr, human, "  /retrigger\n")
	h.eventually(func() bool { return len(h.statuses(head, githubapi.StatusContext)) == 4 }, "a second status cycle")
	if got := strings.Join(h.statuses(head, githubapi.StatusContext), ","); got != "pending,success,pending,success" {
		t.Fatalf("status states = %s", got)
	}
	h.waitIdle()
	drift := visible(h.botComments(pr), driftHeading)
	if len(drift) != 1 || drift[0].ID == first[0].ID {
		t.Fatalf("after /retrigger: %d visible drift comments (first was %d)", len(drift), first[0].ID)
	}
	if !strings.Contains(drift[0].Body, "`env/staging/nginx` ↔️  `env/prod-fast/nginx`") || strings.Contains(drift[0].Body, "`env/prod/nginx`") {
		t.Fatalf("the re-run did not use the PR's current labels:\n%s", drift[0].Body)
	}
}

func TestCommentsThatAreIgnored(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr, head := driftPR(h)
	issue, err := h.emu.CreateIssue(full, human, "question", "")
	if err != nil {
		t.Fatal(err)
	}
	h.comment(issue, human, "/retrigger")               // not a PR
	h.comment(pr, botLogin, "/retrigger")               // the bot itself
	h.comment(pr, human, "/retrigger please")           // not exactly the command
	h.comment(pr, human, githubapi.Marker+"\n/approve") // carries the bot marker
	h.waitIdle()
	if got := h.statuses(head, githubapi.StatusContext); len(got) != 2 {
		t.Fatalf("status states = %v, want only the first run's", got)
	}
	if got := h.statuses(head, "manual/approved"); len(got) != 0 {
		t.Fatalf("a marked comment toggled a status: %v", got)
	}
	ic, _ := h.emu.Comments(full, issue)
	if len(ic) != 1 {
		t.Fatalf("the issue got %d comments, want only its own", len(ic))
	}
}

func TestHandleSelfComment(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{cfg: Config{HandleSelfComment: true}})
	pr, head := driftPR(h)
	h.comment(pr, botLogin, "/retrigger")
	h.eventually(func() bool { return len(h.statuses(head, githubapi.StatusContext)) == 4 }, "the bot's /retrigger to run")
}

func TestToggleCommitStatus(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr, head := driftPR(h)

	h.comment(pr, human, "LGTM /approve")
	h.eventually(func() bool { return len(h.statuses(head, "manual/approved")) == 1 }, "the first toggle")
	if got := h.statuses(head, "manual/approved"); got[0] != "success" {
		t.Fatalf("first toggle set %v, want success", got)
	}
	h.waitIdle()
	replies := visible(h.botComments(pr), "Set commit status")
	if len(replies) != 1 || !strings.Contains(replies[0].Body, "Set commit status `manual/approved` on "+head+" to `success`, as asked by `/approve`.") {
		t.Fatalf("replies = %+v", replies)
	}

	// Both keys, in key order; the reply comment fails once, so the
	// delivery runs again and must not flip anything twice.
	if err := h.emu.InjectFault(emulator.Fault{Method: "POST", Route: commentsRoute, Kind: emulator.FaultServerError}); err != nil {
		t.Fatal(err)
	}
	h.comment(pr, human, "/block and /approve")
	h.eventually(func() bool { return len(visible(h.botComments(pr), "Set commit status")) == 2 }, "the second reply")
	h.waitIdle()
	if got := strings.Join(h.statuses(head, "manual/approved"), ","); got != "success,failure" {
		t.Errorf("manual/approved went %s, want success,failure", got)
	}
	if got := strings.Join(h.statuses(head, "security/review"), ","); got != "success" {
		t.Errorf("security/review went %s, want success", got)
	}
	reply := visible(h.botComments(pr), "Set commit status")[1].Body
	approve := strings.Index(reply, "`manual/approved`")
	block := strings.Index(reply, "`security/review`")
	if approve < 0 || block < 0 || approve > block || !strings.Contains(reply, "to `failure` (it was `success`)") {
		t.Errorf("reply does not list both toggles in key order:\n%s", reply)
	}
}

// A toggle changes only the state of the CI's status: its link and
// description stay the CI's, as with the original.
func TestToggleKeepsTheCIsLinkAndDescription(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr, head := driftPR(h)
	h.emu.AddToken("ci-token", "security-ci")
	ciGitHub, err := githubapi.NewFactory(githubapi.Config{OAuthToken: "ci-token", URL: h.emu.URL()}, githubapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := ciGitHub.ForOwner(context.Background(), owner)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ci.Repositories.CreateStatus(context.Background(), owner, repoName, head, &github.RepoStatus{
		State: github.String("failure"), Context: github.String("security/review"),
		Description: github.String("Waiting for the security team"), TargetURL: github.String("https://ci.example.com/reviews/7"),
	}); err != nil {
		t.Fatal(err)
	}
	h.comment(pr, human, "/block")
	h.eventually(func() bool { return len(h.statuses(head, "security/review")) == 2 }, "the toggle")
	all, err := h.emu.Statuses(full, head)
	if err != nil {
		t.Fatal(err)
	}
	var got emulator.Status
	for _, st := range all {
		if st.Context == "security/review" {
			got = st // oldest first: the last is the newest
		}
	}
	if got.State != "success" || got.URL != "https://ci.example.com/reviews/7" || got.Description != "Waiting for the security team" {
		t.Errorf("toggled status = %s %q %q, want success with the CI's link and description", got.State, got.URL, got.Description)
	}

	// Setting the status fails once: the redelivered comment flips it once.
	h.waitIdle()
	if err := h.emu.InjectFault(emulator.Fault{Method: "POST", Route: "/repos/{owner}/{repo}/statuses/{sha}", Kind: emulator.FaultServerError}); err != nil {
		t.Fatal(err)
	}
	h.comment(pr, human, "/block again")
	h.eventually(func() bool { return len(visible(h.botComments(pr), "Set commit status")) == 2 }, "the second reply")
	h.waitIdle()
	if left := h.emu.Faults(); len(left) != 0 {
		t.Fatalf("the status fault was not hit: %+v", left)
	}
	if got := strings.Join(h.statuses(head, "security/review"), ","); got != "failure,success,failure" {
		t.Errorf("security/review went %s, want failure,success,failure", got)
	}
}
