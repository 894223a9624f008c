package events

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Drift events: the drift service compares, on the default branch, the
// source and target directories an open PR's components would be promoted
// along. Each check of a PR ends in drift.detected (some pair differs; the
// PR got a drift comment) or, when an earlier check of the PR had found
// drift and this one finds none, drift.cleared.

// Wire names of the drift events.
const (
	TypeDriftDetected = "drift.detected.v1"
	TypeDriftCleared  = "drift.cleared.v1"
)

// DriftDetected records that an open PR's promotion pairs differ on the
// default branch. Its ID is derived from the GitHub delivery that started
// the check, so a redelivered check does not publish it twice within the
// duplicate window.
type DriftDetected struct {
	// HeadSHA is the PR head the check ran for.
	HeadSHA string `json:"headSha"`
	// DefaultBranch is the branch compared, and ComparedSHA the commit of
	// it that was read (one per check).
	DefaultBranch string `json:"defaultBranch"`
	ComparedSHA   string `json:"comparedSha"`
	// Pairs are the sync pairs that differ, sorted by source then target.
	Pairs []DriftPair `json:"pairs"`
	// CommentIDs are the ids of the drift comments posted on the PR.
	CommentIDs []int64 `json:"commentIds"`
}

// EventType implements Payload.
func (*DriftDetected) EventType() string { return TypeDriftDetected }

// DriftPair is one drifted sync pair with how many files differ.
type DriftPair struct {
	// Source and Target are component paths (no trailing "/").
	Source string `json:"source"`
	Target string `json:"target"`
	// Changed counts files present on both sides whose contents differ.
	Changed int `json:"changed,omitempty"`
	// OnlyInSource and OnlyInTarget count files missing on the other side.
	OnlyInSource int `json:"onlyInSource,omitempty"`
	OnlyInTarget int `json:"onlyInTarget,omitempty"`
}

// DriftCleared records that a PR whose previous check found drift no
// longer has any.
type DriftCleared struct {
	HeadSHA       string `json:"headSha"`
	DefaultBranch string `json:"defaultBranch"`
	ComparedSHA   string `json:"comparedSha"`
	// PreviousHeadSHA is the PR head of the check that had found drift.
	PreviousHeadSHA string `json:"previousHeadSha"`
}

// EventType implements Payload.
func (*DriftCleared) EventType() string { return TypeDriftCleared }

func init() {
	register(func() Payload { return &DriftDetected{} })
	register(func() Payload { return &DriftCleared{} })
}

// Open-PR check runs. Several services check an open PR (drift detection,
// the Argo CD diff) and together own one commit status, context
// "telefonistka", on the PR head. They coordinate through one KV record per
// (repo, PR, head SHA) in BucketPRChecks:
//
//   - the first checker to handle a run (a pull_request opened, reopened or
//     synchronize delivery, or a /retrigger comment) sets the status to
//     pending and creates the record with the run id (the delivery id) and
//     the checkers expected to report; a later run for the same head
//     replaces the record;
//   - each checker records its result with a compare-and-set update; the
//     one that completes the expected set writes the final status: error if
//     any checker failed, success otherwise;
//   - comments posted during the run are recorded too, so a redelivered run
//     does not post them twice and minimising earlier comments spares them.

// Bucket names of the drift service.
const (
	// BucketPRChecks holds the PRCheckRun records.
	BucketPRChecks = "pr_checks"
	// PRChecksTTL is how long a run record is kept.
	PRChecksTTL = 14 * 24 * time.Hour
	// BucketDriftState holds one DriftState per PR.
	BucketDriftState = "drift_state"
	// DriftStateTTL is how long a PR's last drift result is remembered.
	DriftStateTTL = 90 * 24 * time.Hour
	// BucketLeases holds leases: a key names a job that one process of
	// the deployment runs at a time (the drift service's PR metrics loop),
	// its value the holder and expiry.
	BucketLeases = "leases"
	// LeasesTTL removes leases nobody renewed for a day.
	LeasesTTL = 24 * time.Hour
	// BucketToggles holds, per toggleCommitStatus comment, the statuses it
	// flipped, so a redelivered comment flips nothing twice.
	BucketToggles = "toggles"
	// TogglesTTL outlasts GitHub's redeliveries (a few days).
	TogglesTTL = 14 * 24 * time.Hour
)

// Check results.
const (
	CheckSuccess = "success"
	CheckError   = "error"
)

// PRCheckRun is the record of one run of the open-PR checks.
type PRCheckRun struct {
	// RunID is the id of the GitHub delivery that started the run.
	RunID   string `json:"runId"`
	Repo    Repo   `json:"repo"`
	PR      int    `json:"pr"`
	HeadSHA string `json:"headSha"`
	// Expected are the checkers that must report before the run ends.
	Expected  []string  `json:"expected"`
	StartedAt time.Time `json:"startedAt"`
	// Minimized is set once the bot's earlier comments on the PR were
	// minimised for this run; checkers post their comments after it.
	Minimized bool `json:"minimized,omitempty"`
	// Results maps a checker to its outcome.
	Results map[string]CheckResult `json:"results,omitempty"`
	// Comments are the comments posted during the run.
	Comments []RunComment `json:"comments,omitempty"`
}

// CheckResult is one checker's outcome.
type CheckResult struct {
	// State is CheckSuccess or CheckError.
	State string `json:"state"`
	// Reason says what failed (for CheckError).
	Reason     string    `json:"reason,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
}

// RunComment is a comment posted during a run. Part names the comment
// within the checker's output (e.g. "drift-1"), so a redelivered run knows
// what it already posted.
type RunComment struct {
	Checker string `json:"checker"`
	Part    string `json:"part"`
	ID      int64  `json:"id"`
	NodeID  string `json:"nodeId"`
}

// NewPRCheckRun starts a run record.
func NewPRCheckRun(runID string, repo Repo, pr int, headSHA string, expected []string, now time.Time) *PRCheckRun {
	exp := append([]string(nil), expected...)
	sort.Strings(exp)
	return &PRCheckRun{RunID: runID, Repo: repo, PR: pr, HeadSHA: headSHA, Expected: exp, StartedAt: now.UTC()}
}

// Checker names of the services that take part in runs.
const (
	CheckerDrift    = "drift"
	CheckerArgoDiff = "argodiff"
)

// Expect adds checker to the expected set (kept sorted) unless it is
// there. The Argo CD diff joins a run this way when the repository sets
// argocd.commentDiffonPR and TELEFONISTKA_PR_CHECKERS is not set.
func (r *PRCheckRun) Expect(checker string) bool {
	for _, c := range r.Expected {
		if c == checker {
			return false
		}
	}
	r.Expected = append(r.Expected, checker)
	sort.Strings(r.Expected)
	return true
}

// Finished reports whether checker has recorded a result.
func (r *PRCheckRun) Finished(checker string) bool {
	_, ok := r.Results[checker]
	return ok
}

// Finish records checker's result, replacing an earlier one.
func (r *PRCheckRun) Finish(checker, state, reason string, now time.Time) {
	if r.Results == nil {
		r.Results = map[string]CheckResult{}
	}
	r.Results[checker] = CheckResult{State: state, Reason: reason, FinishedAt: now.UTC()}
}

// Final returns the run's final state once every expected checker has
// reported: CheckError with the first failing checker's reason (in checker
// order) if any failed, CheckSuccess otherwise. done is false while a
// checker is missing.
func (r *PRCheckRun) Final() (state, reason string, done bool) {
	state = CheckSuccess
	for _, c := range r.Expected {
		res, ok := r.Results[c]
		if !ok {
			return "", "", false
		}
		if res.State != CheckSuccess && state == CheckSuccess {
			state, reason = CheckError, res.Reason
		}
	}
	return state, reason, true
}

// Comment returns the comment checker posted as part, if recorded.
func (r *PRCheckRun) Comment(checker, part string) (RunComment, bool) {
	for _, c := range r.Comments {
		if c.Checker == checker && c.Part == part {
			return c, true
		}
	}
	return RunComment{}, false
}

// AddComment records a posted comment, replacing one with the same part.
func (r *PRCheckRun) AddComment(c RunComment) {
	for i := range r.Comments {
		if r.Comments[i].Checker == c.Checker && r.Comments[i].Part == c.Part {
			r.Comments[i] = c
			return
		}
	}
	r.Comments = append(r.Comments, c)
}

// CommentNodeIDs returns the node ids of the run's comments (the set
// minimising must spare).
func (r *PRCheckRun) CommentNodeIDs() map[string]bool {
	ids := make(map[string]bool, len(r.Comments))
	for _, c := range r.Comments {
		if c.NodeID != "" {
			ids[c.NodeID] = true
		}
	}
	return ids
}

// PRCheckKey is the BucketPRChecks key of a run for (repo, PR, head SHA).
func PRCheckKey(repo Repo, pr int, headSHA string) string {
	return PRKey(repo, pr) + "." + KVToken(headSHA)
}

// PRKey is the key of per-PR records (BucketDriftState).
func PRKey(repo Repo, pr int) string {
	return KVToken(repo.Owner) + "." + KVToken(repo.Name) + "." + strconv.Itoa(pr)
}

// KVToken makes s one literal key token of a NATS KV key: EscapeToken with
// "%" (not allowed in keys) written as "=".
func KVToken(s string) string { return strings.ReplaceAll(EscapeToken(s), "%", "=") }

// DriftState is a PR's last drift result, kept to tell when drift clears.
type DriftState struct {
	HeadSHA string `json:"headSha"`
	Drifted bool   `json:"drifted"`
	// RunID is the delivery id of the check that wrote it.
	RunID string `json:"runId"`
}
