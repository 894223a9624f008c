package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Test helpers on Harness: acting as a person through the emulator's Go
// API, and reading the result. Other test files of this package use them.

// Change is a set of file edits: path -> new content, nil deletes.
type Change map[string]*string

// Set returns a pointer to content, for Change values.
func Set(content string) *string { return &content }

// OpenChange pushes change as Human on a new branch and opens a PR with
// labels; it returns the PR number.
func (h *Harness) OpenChange(branch string, change Change, labels ...string) int {
	h.T.Helper()
	if _, err := h.GitHub.Push(h.Repo, branch, Human, "Change "+branch, change); err != nil {
		h.T.Fatalf("pushing %s: %v", branch, err)
	}
	n, err := h.GitHub.OpenPullRequest(h.Repo, emulator.PullRequestSpec{Author: Human, Title: "Change " + branch, Head: branch, Labels: labels})
	if err != nil {
		h.T.Fatalf("opening a PR from %s: %v", branch, err)
	}
	return n
}

// Merge merges PR number as Human and returns the merge commit.
func (h *Harness) Merge(number int) string {
	h.T.Helper()
	sha, err := h.GitHub.MergePullRequest(h.Repo, number, Human)
	if err != nil {
		h.T.Fatalf("merging #%d: %v", number, err)
	}
	return sha
}

// MergeChange opens a PR with change and merges it; it returns the PR
// number and the merge commit.
func (h *Harness) MergeChange(branch string, change Change, labels ...string) (int, string) {
	h.T.Helper()
	n := h.OpenChange(branch, change, labels...)
	return n, h.Merge(n)
}

// WaitRun waits for the promotion run of a merge to finish and returns it.
func (h *Harness) WaitRun(mergeCommit string, timeout time.Duration) *events.PromotionRunFinished {
	h.T.Helper()
	var run *events.PromotionRunFinished
	h.Eventually("promotion run of "+mergeCommit+" finished", timeout, func() error {
		if run = h.Recorder.RunFinished(mergeCommit); run == nil {
			return fmt.Errorf("no promotion.run_finished yet")
		}
		return nil
	})
	return run
}

// RunPRs returns the promotion PRs a run opened or updated.
func (h *Harness) RunPRs(runID string) []emulator.PullRequest {
	h.T.Helper()
	var numbers []int
	for _, e := range Payloads[*events.PromotionPROpened](h.Recorder, events.TypePromotionPROpened) {
		if e.RunID == runID {
			numbers = append(numbers, e.Number)
		}
	}
	for _, e := range Payloads[*events.PromotionPRUpdated](h.Recorder, events.TypePromotionPRUpdated) {
		if e.RunID == runID {
			numbers = append(numbers, e.Number)
		}
	}
	slices.Sort(numbers)
	var out []emulator.PullRequest
	for _, n := range slices.Compact(numbers) {
		out = append(out, h.PR(n))
	}
	return out
}

// PR returns PR number.
func (h *Harness) PR(number int) emulator.PullRequest {
	h.T.Helper()
	pr, err := h.GitHub.GetPullRequest(h.Repo, number)
	if err != nil {
		h.T.Fatal(err)
	}
	return pr
}

// PRs returns every PR.
func (h *Harness) PRs() []emulator.PullRequest {
	h.T.Helper()
	prs, err := h.GitHub.PullRequests(h.Repo)
	if err != nil {
		h.T.Fatal(err)
	}
	return prs
}

// PromotionPRs returns the PRs the bot opened, in any state.
func (h *Harness) PromotionPRs() []emulator.PullRequest {
	var out []emulator.PullRequest
	for _, pr := range h.PRs() {
		if pr.Author == BotLogin {
			out = append(out, pr)
		}
	}
	return out
}

// OpenPromotionPRs returns the open PRs the bot opened.
func (h *Harness) OpenPromotionPRs() []emulator.PullRequest {
	var out []emulator.PullRequest
	for _, pr := range h.PromotionPRs() {
		if pr.State == "open" {
			out = append(out, pr)
		}
	}
	return out
}

// OrphanBranches returns the branches, other than the default branch, that
// no PR (in any state) has as its head.
func (h *Harness) OrphanBranches() []string {
	h.T.Helper()
	branches, err := h.GitHub.Branches(h.Repo)
	if err != nil {
		h.T.Fatal(err)
	}
	def, err := h.GitHub.DefaultBranch(h.Repo)
	if err != nil {
		h.T.Fatal(err)
	}
	heads := map[string]bool{}
	for _, pr := range h.PRs() {
		heads[pr.Head] = true
	}
	var out []string
	for b := range branches {
		if b != def && !heads[b] {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// Files returns the files under prefix at ref.
func (h *Harness) Files(ref, prefix string) map[string]string {
	h.T.Helper()
	files, err := h.GitHub.ListFiles(h.Repo, ref, prefix)
	if err != nil {
		h.T.Fatalf("listing %s at %s: %v", prefix, ref, err)
	}
	return files
}

// Status returns the latest telefonistka status on sha ("" if none).
func (h *Harness) Status(sha string) string {
	h.T.Helper()
	state, err := LatestStatus(h.GitHub, h.Repo, sha)
	if err != nil {
		h.T.Fatal(err)
	}
	return state
}

// RedeliverAll asks the emulator to redeliver every webhook delivered so
// far, times times each (same delivery ids), and waits until they are sent.
func (h *Harness) RedeliverAll(times int) int {
	h.T.Helper()
	seen := map[string]bool{}
	var guids []string
	for _, d := range h.GitHub.Deliveries() {
		if !seen[d.GUID] {
			seen[d.GUID] = true
			guids = append(guids, d.GUID)
		}
	}
	for range times {
		for _, g := range guids {
			if _, err := h.GitHub.Redeliver(g); err != nil {
				h.T.Fatalf("redelivering %s: %v", g, err)
			}
		}
	}
	return len(guids)
}

func TestHarnessRestartsIngressOnANewAddress(t *testing.T) {
	h := Start(t, Options{Services: []string{"ingress"}})
	before := h.WebhookURL()
	h.RestartService("ingress")
	if h.WebhookURL() == before || h.WebhookURL() == "" {
		t.Fatalf("webhook URL after restart: %q (before %q)", h.WebhookURL(), before)
	}
	n := h.OpenChange("docs", Change{"README.md": Set("hello\n")})
	h.Eventually("the PR's webhook reached the GITHUB stream", 10*time.Second, func() error {
		info, err := h.Conn.JS.Stream(t.Context(), events.StreamGitHub)
		if err != nil {
			return err
		}
		st, err := info.Info(t.Context())
		if err != nil {
			return err
		}
		if st.State.Msgs == 0 {
			return fmt.Errorf("no delivery stored for #%d", n)
		}
		return nil
	})
}

var errNotYet = errors.New("not yet")

// ReplayStream publishes every stored event of type typ on stream again
// under a new envelope id, as if it had been sent once more: for GitHub
// deliveries, as if GitHub had sent each event again with a new delivery id
// (so ingress's de-duplication does not stop them). It returns how many.
func (h *Harness) ReplayStream(stream, typ string) int {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := bus.Publisher{JS: h.Conn.JS}
	n := 0
	for _, env := range h.streamEvents(stream) {
		if env.Type != typ {
			continue
		}
		env.ID = events.RandomID()
		if _, err := pub.Publish(ctx, env); err != nil {
			h.T.Fatal(err)
		}
		n++
	}
	return n
}
