package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// Drift warnings, comment commands and commit statuses, through ingress:
// signed webhooks from the emulator reach the drift service over JetStream.

const driftWarning = "# ⚠️  Found drift between environments ⚠️"

func driftRepo() map[string]string {
	return map[string]string{
		"telefonistka.yaml": `promotionPaths:
  - sourcePath: "env/staging/"
    promotionPrs:
      - targetPaths: ["env/prod/"]
toggleCommitStatus:
  approve: "manual/approved"
`,
		"env/staging/nginx/values.yaml": "replicas: 1\nimage: nginx:1.25\n",
		"env/prod/nginx/values.yaml":    "replicas: 3\nimage: nginx:1.25\n",
	}
}

func startDrift(t *testing.T) *Harness {
	return Start(t, Options{RepoFiles: driftRepo(), Services: []string{"drift", "ingress"}, EventTimeout: 30 * time.Second})
}

// driftStates returns the states of a status context on sha, oldest first.
func driftStates(h *Harness, sha, statusContext string) []string {
	h.T.Helper()
	all, err := h.GitHub.Statuses(h.Repo, sha)
	if err != nil {
		h.T.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.Context == statusContext {
			out = append(out, s.State)
		}
	}
	return out
}

// driftFinal waits until the telefonistka status of sha has had n final
// states (success or error) and is not pending; it returns every state.
func driftFinal(h *Harness, sha string, n int) []string {
	h.T.Helper()
	var states []string
	h.Eventually("the telefonistka status to end", 30*time.Second, func() error {
		states = driftStates(h, sha, githubapi.StatusContext)
		final := 0
		for _, s := range states {
			if s != githubapi.StatePending {
				final++
			}
		}
		if final < n || states[len(states)-1] == githubapi.StatePending {
			return fmt.Errorf("states %v", states)
		}
		return nil
	})
	return states
}

// driftComments returns the bot's comments on PR n that contain text;
// visible only those not minimised.
func driftComments(h *Harness, n int, text string) (all, visible []emulator.Comment) {
	h.T.Helper()
	cs, err := h.GitHub.Comments(h.Repo, n)
	if err != nil {
		h.T.Fatal(err)
	}
	for _, c := range cs {
		if c.Author != BotLogin || !strings.Contains(c.Body, text) {
			continue
		}
		all = append(all, c)
		if !c.Minimized {
			visible = append(visible, c)
		}
	}
	return all, visible
}

func driftPush(h *Harness, branch string, change map[string]*string) {
	h.T.Helper()
	if _, err := h.GitHub.Push(h.Repo, branch, Human, "Change "+branch, change); err != nil {
		h.T.Fatal(err)
	}
}

func driftOpen(h *Harness, branch string, change map[string]*string) (int, string) {
	h.T.Helper()
	driftPush(h, branch, change)
	n, err := h.GitHub.OpenPullRequest(h.Repo, emulator.PullRequestSpec{Author: Human, Title: "Change " + branch, Head: branch})
	if err != nil {
		h.T.Fatal(err)
	}
	pr, err := h.GitHub.GetPullRequest(h.Repo, n)
	if err != nil {
		h.T.Fatal(err)
	}
	return n, pr.HeadSHA
}

func TestDriftCommentsCommandsAndStatus(t *testing.T) {
	h := startDrift(t)
	pr, head := driftOpen(h, "bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})

	// One drift comment; the status goes pending -> success.
	if got := strings.Join(driftFinal(h, head, 1), ","); got != "pending,success" {
		t.Fatalf("status states = %s", got)
	}
	h.WaitSettled(30 * time.Second)
	all, visible := driftComments(h, pr, driftWarning)
	if len(all) != 1 || len(visible) != 1 {
		t.Fatalf("drift comments: %d, %d visible; want exactly one", len(all), len(visible))
	}
	if !strings.Contains(visible[0].Body, "-replicas: 1\n+replicas: 3\n") {
		t.Fatalf("drift comment lacks the diff:\n%s", visible[0].Body)
	}

	// /retrigger runs the checks again: a new status cycle, the old
	// comment minimised, one new comment.
	if _, err := h.GitHub.Comment(h.Repo, pr, Human, "/retrigger"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(driftFinal(h, head, 2), ","); got != "pending,success,pending,success" {
		t.Fatalf("status states after /retrigger = %s", got)
	}
	h.WaitSettled(30 * time.Second)
	all, visible = driftComments(h, pr, driftWarning)
	if len(all) != 2 || len(visible) != 1 || visible[0].ID == all[0].ID {
		t.Fatalf("after /retrigger: %d drift comments, %d visible", len(all), len(visible))
	}

	// A toggle comment flips the configured context and says so.
	if _, err := h.GitHub.Comment(h.Repo, pr, Human, "ready: /approve"); err != nil {
		t.Fatal(err)
	}
	h.Eventually("the toggle reply", 30*time.Second, func() error {
		if _, replies := driftComments(h, pr, "Set commit status `manual/approved`"); len(replies) != 1 {
			return fmt.Errorf("%d replies", len(replies))
		}
		return nil
	})
	if got := driftStates(h, head, "manual/approved"); strings.Join(got, ",") != "success" {
		t.Fatalf("manual/approved states = %v", got)
	}

	// The environments are aligned on main and the PR gets a new commit:
	// no drift any more, and the warning is minimised.
	driftPush(h, "main", map[string]*string{"env/prod/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.25\n")})
	driftPush(h, "bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.27\n")})
	pull, err := h.GitHub.GetPullRequest(h.Repo, pr)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(driftFinal(h, pull.HeadSHA, 1), ","); got != "pending,success" {
		t.Fatalf("status states after the fix = %s", got)
	}
	h.WaitSettled(30 * time.Second)
	if _, visible = driftComments(h, pr, driftWarning); len(visible) != 0 {
		t.Fatalf("%d drift comments still visible after the fix", len(visible))
	}
}

func TestDriftStatusEndsWhenKilledMidCheck(t *testing.T) {
	h := startDrift(t)
	h.GitHub.SetRouteLatency("GET /repos/{owner}/{repo}/git/blobs/{sha}", 20*time.Second)
	pr, head := driftOpen(h, "bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})
	h.Eventually("the check to be reading blobs", 30*time.Second, func() error {
		if n := h.GitHub.Count("GET /repos/{owner}/{repo}/git/blobs/{sha}"); n == 0 {
			return fmt.Errorf("no blob read yet")
		}
		return nil
	})
	h.KillService("drift")
	if got := driftStates(h, head, githubapi.StatusContext); strings.Join(got, ",") != "pending" {
		t.Fatalf("states after the kill = %v", got)
	}
	h.GitHub.ClearLatency()
	h.StartService("drift")
	states := driftFinal(h, head, 1)
	if states[len(states)-1] != githubapi.StateSuccess {
		t.Fatalf("status states = %v", states)
	}
	h.WaitSettled(30 * time.Second)
	if _, visible := driftComments(h, pr, driftWarning); len(visible) != 1 {
		t.Fatalf("%d visible drift comments after the restart, want 1", len(visible))
	}
}
