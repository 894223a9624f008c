package e2e

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// The promotion promise, checked at the end of every test that runs the
// promotion services (see checkPromiseAtEnd): for every flow, every target
// on the default branch equals its source at the newest merged change that
// promotes to it, or an open promotion PR carries it, or that change's PR
// shows a failure (its telefonistka status is error or failure). An open
// promotion PR carries a target when its metadata lists the target among
// its promoted paths and its head holds the source's files there.
//
// "Promotes to it" is what pkg/plan computes for the merged PR: its changed
// files (the merge commit against its first parent), its labels and the
// configuration at its merge commit. PRs merged in dry-run mode promise
// only a comment and are left out.

// Violation is a target that breaks the promise.
type Violation struct {
	Target string // target component path
	Source string // source component path
	Key    string // plan key
	Origin int    // the newest merged PR promoting to the target
	Commit string // its merge commit
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (plan key %s) is not %s as of #%d (merge %s), no open promotion PR carries it, and #%d shows no failure",
		v.Target, v.Key, v.Source, v.Origin, short(v.Commit), v.Origin)
}

func short(sha string) string { return sha[:min(len(sha), 7)] }

// promised is the newest merged PR promoting to one target.
type promised struct {
	pair plan.SyncPair
	key  string
	pr   emulator.PullRequest
}

// PromiseViolations checks the promise on the repository as it is now.
func (h *Harness) PromiseViolations() ([]Violation, error) {
	return PromiseViolations(h.GitHub, h.Repo, BotLogin)
}

// promise checks the promise on one repository of the emulator; bot is the
// login that opens promotion PRs.
type promise struct {
	GitHub *emulator.Emulator
	Repo   string
	bot    string
}

// PromiseViolations checks the promise on repo of gh as it is now (bot is
// the login that opens promotion PRs). Tests that run the services their
// own way (the cluster test) check it with this.
func PromiseViolations(gh *emulator.Emulator, repo, bot string) ([]Violation, error) {
	return (&promise{GitHub: gh, Repo: repo, bot: bot}).violations()
}

func (h *promise) violations() ([]Violation, error) {
	def, err := h.GitHub.DefaultBranch(h.Repo)
	if err != nil {
		return nil, err
	}
	merged, err := h.mergedInOrder(def)
	if err != nil {
		return nil, err
	}
	newest := map[string]promised{}
	for _, pr := range merged {
		pairs, err := h.promotedBy(pr)
		if err != nil {
			return nil, fmt.Errorf("planning #%d: %w", pr.Number, err)
		}
		for _, p := range pairs {
			newest[p.pair.Target()] = p
		}
	}
	prs, err := h.GitHub.PullRequests(h.Repo)
	if err != nil {
		return nil, err
	}
	var open []emulator.PullRequest
	for _, pr := range prs {
		if pr.State == "open" && pr.Author == h.bot {
			open = append(open, pr)
		}
	}
	var out []Violation
	for _, target := range slices.Sorted(maps.Keys(newest)) {
		p := newest[target]
		ok, err := h.keptPromise(def, p, open)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, Violation{Target: target, Source: p.pair.Source(), Key: p.key, Origin: p.pr.Number, Commit: p.pr.MergeCommitSHA})
		}
	}
	return out, nil
}

func (h *promise) keptPromise(def string, p promised, open []emulator.PullRequest) (bool, error) {
	want, err := h.GitHub.ListFiles(h.Repo, p.pr.MergeCommitSHA, p.pair.Source())
	if err != nil {
		return false, err
	}
	want = Relative(want, p.pair.Source())
	for _, ref := range append([]string{def}, carriers(open, p.pair.Target())...) {
		got, err := h.GitHub.ListFiles(h.Repo, ref, p.pair.Target())
		if err != nil {
			return false, err
		}
		if maps.Equal(Relative(got, p.pair.Target()), want) {
			return true, nil
		}
	}
	state, err := LatestStatus(h.GitHub, h.Repo, p.pr.HeadSHA)
	if err != nil {
		return false, err
	}
	return state == githubapi.StateError || state == "failure", nil
}

// LatestStatus returns the newest telefonistka commit status on sha of repo
// ("" if none).
func LatestStatus(gh *emulator.Emulator, repo, sha string) (string, error) {
	statuses, err := gh.Statuses(repo, sha)
	if err != nil {
		return "", err
	}
	state := ""
	for _, s := range statuses {
		if s.Context == githubapi.StatusContext {
			state = s.State
		}
	}
	return state, nil
}

// carriers returns the heads of the open promotion PRs that promote target
// (their metadata lists it among the promoted paths).
func carriers(prs []emulator.PullRequest, target string) []string {
	var out []string
	for _, pr := range prs {
		if md, err := metadata.Extract(pr.Body); err == nil && slices.Contains(md.PromotedPaths, target) {
			out = append(out, pr.HeadSHA)
		}
	}
	return out
}

// mergedInOrder returns the PRs merged into the default branch, oldest
// merge first (their order on its first-parent history).
func (h *promise) mergedInOrder(def string) ([]emulator.PullRequest, error) {
	position := map[string]int{}
	for sha, n := def, 0; sha != ""; n++ {
		c, err := h.GitHub.GetCommit(h.Repo, sha)
		if err != nil {
			return nil, err
		}
		position[c.SHA] = -n
		sha = ""
		if len(c.Parents) > 0 {
			sha = c.Parents[0]
		}
	}
	prs, err := h.GitHub.PullRequests(h.Repo)
	if err != nil {
		return nil, err
	}
	var out []emulator.PullRequest
	for _, pr := range prs {
		if _, on := position[pr.MergeCommitSHA]; pr.Merged && pr.Base == def && on {
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, func(a, b emulator.PullRequest) int { return position[a.MergeCommitSHA] - position[b.MergeCommitSHA] })
	return out, nil
}

// promotedBy returns the sync pairs a merged PR promotes.
func (h *promise) promotedBy(pr emulator.PullRequest) ([]promised, error) {
	at := pr.MergeCommitSHA
	data, err := h.GitHub.ReadFile(h.Repo, at, "telefonistka.yaml")
	if errors.Is(err, emulator.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadRepoConfig("telefonistka.yaml", []byte(data))
	if err != nil || cfg.DryRunMode {
		return nil, nil //nolint:nilerr // a bad configuration promises a comment, not a promotion
	}
	changed, err := h.changedFiles(at)
	if err != nil {
		return nil, err
	}
	components := plan.ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
		file := path + "/telefonistka.yaml"
		data, err := h.GitHub.ReadFile(h.Repo, at, file)
		if errors.Is(err, emulator.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return config.LoadComponentConfig(file, []byte(data))
	})
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: changed, Labels: pr.Labels, Components: components})
	var out []promised
	for _, e := range p.Entries {
		for _, pair := range e.Sync {
			out = append(out, promised{pair: pair, key: e.Key, pr: pr})
		}
	}
	return out, nil
}

// changedFiles are the files a merge commit changed against its first
// parent: the merged PR's files.
func (h *promise) changedFiles(merge string) ([]string, error) {
	c, err := h.GitHub.GetCommit(h.Repo, merge)
	if err != nil {
		return nil, err
	}
	if len(c.Parents) == 0 {
		return nil, nil
	}
	before, err := h.GitHub.ListFiles(h.Repo, c.Parents[0], "")
	if err != nil {
		return nil, err
	}
	after, err := h.GitHub.ListFiles(h.Repo, merge, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for p, content := range after {
		if old, ok := before[p]; !ok || old != content {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// promotionServices are the services that make the promise.
var promotionServices = []string{"ingress", "planner", "promoter"}

// checkPromiseAtEnd runs when every test ends, before the services stop:
// unless the test failed or checked the promise itself (CheckPromise), it
// fails the test for every target that breaks the promise. When the
// promotion services run, it first waits until the system settles; a test
// without them (drift) merges nothing that promises a promotion, which the
// check confirms.
func (h *Harness) checkPromiseAtEnd() {
	h.mu.Lock()
	checked := h.promiseChecked
	promoting := true
	for _, s := range promotionServices {
		if _, up := h.running[s]; !up {
			promoting = false
		}
	}
	h.mu.Unlock()
	if checked || h.T.Failed() || h.T.Skipped() {
		return
	}
	if promoting {
		h.WaitSettled(2 * time.Minute)
	}
	for _, v := range h.CheckPromise() {
		h.T.Errorf("promotion promise broken: %s", v)
	}
}

// CheckPromise returns the violations of the promise now (failing the test
// if it cannot be checked) and marks it checked, so the check at the end
// of the test is skipped.
func (h *Harness) CheckPromise() []Violation {
	h.T.Helper()
	h.mu.Lock()
	h.promiseChecked = true
	h.mu.Unlock()
	v, err := h.PromiseViolations()
	if err != nil {
		h.T.Fatalf("checking the promotion promise: %v", err)
	}
	return v
}

// Relative returns files with prefix+"/" cut from their paths.
func Relative(files map[string]string, prefix string) map[string]string {
	out := make(map[string]string, len(files))
	for p, c := range files {
		out[strings.TrimPrefix(p, prefix+"/")] = c
	}
	return out
}
