package events

import "time"

// Promotion events. When a PR is merged into the default branch, the
// planner computes the promotion plan and publishes one promotion.planned
// event per plan entry, preceded by promotion.run_started listing every
// plan key of the run. The promoter handles each planned event and records
// what it did (pr_opened, pr_updated, merged, in_sync, failed) and, last,
// exactly one promotion.entry_finished per entry. The planner counts the
// finished entries of a run and, when all are in, sets the origin PR's final
// commit status and publishes promotion.run_finished.
//
// Every promotion event carries the origin PR in the envelope (Repo, PR), so
// a run's events share one bus partition, and the run id, so a consumer can
// follow one merge from plan to outcome. Event ids are derived from (repo,
// merge commit, plan key): a replayed plan publishes the same ids.

// Wire names of the promotion events.
const (
	TypePromotionRunStarted    = "promotion.run_started.v1"
	TypePromotionPlanned       = "promotion.planned.v1"
	TypePromotionPROpened      = "promotion.pr_opened.v1"
	TypePromotionPRUpdated     = "promotion.pr_updated.v1"
	TypePromotionMerged        = "promotion.merged.v1"
	TypePromotionInSync        = "promotion.in_sync.v1"
	TypePromotionFailed        = "promotion.failed.v1"
	TypePromotionEntryFinished = "promotion.entry_finished.v1"
	TypePromotionRunFinished   = "promotion.run_finished.v1"
)

// KV buckets of the promotion services.
const (
	// BucketPromotionRuns holds one record per run (the planner's replay
	// guard and the count of finished entries), keyed by run id.
	BucketPromotionRuns = "promotion_runs"
	// BucketPromotionEntries holds one record per plan entry the promoter
	// started or finished, keyed by the entry id (the planned event's id).
	BucketPromotionEntries = "promotion_entries"
	// BucketPromotionBranches remembers the last commit the promoter wrote
	// to each promotion branch, keyed by a hash of repo and branch.
	BucketPromotionBranches = "promotion_branches"
	// BucketPromotionGroups remembers, per promotion group (repo and plan
	// key), the newest source commit the promoter built the group at, so an
	// older merge handled later never moves the group's targets back.
	BucketPromotionGroups = "promotion_groups"
	// BucketPromotionLocks holds the per-group locks that serialise updates
	// of one promotion group across workers and replicas.
	BucketPromotionLocks = "promotion_locks"
	// PromotionRecordTTL is how long run, entry and branch records are kept:
	// as long as the PROMOTION stream keeps events.
	PromotionRecordTTL = 30 * 24 * time.Hour
)

// PromotionRunID derives the id of the run a merge starts.
func PromotionRunID(repo Repo, mergeCommit string) string {
	return DeriveID("promotion.run", repo.String(), mergeCommit)
}

// PromotionEntryID derives the id of one plan entry of a run; the planned
// event has this id.
func PromotionEntryID(repo Repo, mergeCommit, planKey string) string {
	return DeriveID("promotion.entry", repo.String(), mergeCommit, planKey)
}

// PromotionEventID derives the id of an outcome event of type typ about one
// plan entry, so the promoter publishes each fact once however often it
// handles the entry.
func PromotionEventID(typ string, repo Repo, mergeCommit, planKey string) string {
	return DeriveID(typ, repo.String(), mergeCommit, planKey)
}

// PromotionRunStarted announces a run: a merged origin PR whose plan has
// the listed entries. It is published before the entries' planned events.
type PromotionRunStarted struct {
	RunID string `json:"runId"`
	// MergeCommit is the origin PR's merge commit, read for the plan.
	MergeCommit string `json:"mergeCommit"`
	// HeadSHA is the origin PR's head commit, which carries the status.
	HeadSHA string `json:"headSha"`
	// Keys are the plan keys of the run's entries, sorted.
	Keys []string `json:"keys"`
	// ComponentErrors counts components left out because their
	// configuration is invalid; the run then ends in error.
	ComponentErrors int `json:"componentErrors,omitempty"`
	// TrackerComment is the repository's promotionTrackerComment at the
	// merge commit: the tracker keeps a comment on the change's original PR
	// up to date as the promotion advances.
	TrackerComment bool `json:"trackerComment,omitempty"`
}

// EventType implements Payload.
func (*PromotionRunStarted) EventType() string { return TypePromotionRunStarted }

// PromotionOrigin is the merged PR that causes a promotion, with the chain
// history its PR-body metadata carried.
type PromotionOrigin struct {
	Number  int    `json:"number"`
	Author  string `json:"author"`
	HeadRef string `json:"headRef"`
	HeadSHA string `json:"headSha"`
	// Labels are the origin PR's labels when it was merged.
	Labels []string `json:"labels"`
	// OriginalPrNumber is the human PR that started the chain.
	OriginalPrNumber int `json:"originalPrNumber"`
	// OriginalPrAuthors are the people who started the chain.
	OriginalPrAuthors []string `json:"originalPrAuthors"`
	// History is the origin's previousPromotionPaths (empty for a PR
	// without metadata).
	History map[string]PromotionLevel `json:"history"`
	// OriginPrs are the origin PRs the origin PR (a promotion PR) carried,
	// from its metadata; none for a person's PR.
	OriginPrs []int `json:"originPrs,omitempty"`
	// HistoryParents are the origin's historyParents: the history keys each
	// level came out of (levels written by the original have none).
	HistoryParents map[string][]string `json:"historyParents,omitempty"`
}

// PromotionLevel is one level of a chain's history.
type PromotionLevel struct {
	SourcePath  string   `json:"sourcePath"`
	TargetPaths []string `json:"targetPaths"`
}

// PromotionGroup is the promotion group of a plan entry: one flow's target
// group.
type PromotionGroup struct {
	// Key is the plan key.
	Key string `json:"key"`
	// SourcePath is the flow's canonical source pattern.
	SourcePath string `json:"sourcePath"`
	FlowIndex  int    `json:"flowIndex"`
	// Targets are the canonical target directories, sorted.
	Targets []string `json:"targets"`
	// RawTargets are the targets as configured, sorted.
	RawTargets        []string `json:"rawTargets"`
	TargetDescription string   `json:"targetDescription"`
}

// PromotionComponent is a component of an entry.
type PromotionComponent struct {
	// SourceDir is the source directory, ending in "/".
	SourceDir string `json:"sourceDir"`
	Name      string `json:"name"`
}

// PromotionPair is a sync pair: make TargetDir+Component exactly
// SourceDir+Component. Both directories end in "/".
type PromotionPair struct {
	SourceDir string `json:"sourceDir"`
	TargetDir string `json:"targetDir"`
	Component string `json:"component"`
}

// PromotionDuplicate is a fan-in conflict: two sources of one entry map to
// the same target; Winner is used.
type PromotionDuplicate struct {
	Winner PromotionPair `json:"winner"`
	Loser  PromotionPair `json:"loser"`
}

// PromotionPlanned asks for one promotion PR to be opened or updated. It
// carries everything the promoter needs, so the promoter never reads the
// repository configuration.
type PromotionPlanned struct {
	RunID string `json:"runId"`
	// MergeCommit is the commit the sources are read at.
	MergeCommit   string          `json:"mergeCommit"`
	DefaultBranch string          `json:"defaultBranch"`
	Origin        PromotionOrigin `json:"origin"`
	Group         PromotionGroup  `json:"group"`
	// Policy is "supersede" or "perChange".
	Policy string `json:"policy"`
	// Branch is the head branch of the promotion PR (for supersede, the
	// group branch).
	Branch      string `json:"branch"`
	AutoMerge   bool   `json:"autoMerge"`
	AutoApprove bool   `json:"autoApprove"`
	// Labels are "promotion" followed by the configured labels.
	Labels     []string             `json:"labels"`
	Components []PromotionComponent `json:"components"`
	// Sync are the pairs to apply (fan-in losers excluded).
	Sync []PromotionPair `json:"sync"`
	// Skipped are the pairs removed by block or allow lists.
	Skipped    []PromotionPair      `json:"skipped"`
	Duplicates []PromotionDuplicate `json:"duplicates"`
	// Base, when set, is the sync the planner computed against the default
	// branch head it read (right after a merge, the merge commit itself),
	// so the promoter's first attempt writes it without reading trees. A
	// retry, or an entry built differently (supersede carrying earlier
	// merges), computes the sync anew.
	Base *PromotionBase `json:"base,omitempty"`
}

// EventType implements Payload.
func (*PromotionPlanned) EventType() string { return TypePromotionPlanned }

// PromotionBase is a sync computed by the planner.
type PromotionBase struct {
	// Commit is the default branch head the sync applies to (the new
	// commit's parent); Tree is its root tree.
	Commit string `json:"commit"`
	Tree   string `json:"tree"`
	// InSync is true when the targets already equal the sources.
	InSync bool `json:"inSync,omitempty"`
	// Changes are the create-tree entries (deletions explicit).
	Changes []PromotionChange `json:"changes,omitempty"`
	// Notes are the fan-in notes for the PR body.
	Notes []string `json:"notes,omitempty"`
}

// PromotionChange is one create-tree entry of a sync.
type PromotionChange struct {
	Path   string `json:"path"`
	Mode   string `json:"mode"`
	Type   string `json:"type"`
	SHA    string `json:"sha,omitempty"`
	Delete bool   `json:"delete,omitempty"`
}

// PromotionPROpened records a promotion PR opened (or an existing one
// adopted) for a plan entry.
type PromotionPROpened struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	Branch      string `json:"branch"`
	Number      int    `json:"number"`
	URL         string `json:"url"`
	// Commit is the promotion commit at the PR head.
	Commit string `json:"commit"`
	// Adopted is true when the PR existed already (a replay or a restart).
	Adopted bool `json:"adopted,omitempty"`
	// Replaces is the PR this one replaces because someone else pushed to
	// its branch (supersede).
	Replaces int `json:"replaces,omitempty"`
}

// EventType implements Payload.
func (*PromotionPROpened) EventType() string { return TypePromotionPROpened }

// PromotionPRUpdated records an open promotion PR updated in place with a
// newer promotion of its group (supersede).
type PromotionPRUpdated struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	Branch      string `json:"branch"`
	Number      int    `json:"number"`
	URL         string `json:"url"`
	// Commit is the new head commit of the branch.
	Commit string `json:"commit"`
	// SourceCommit is the commit the sources were read at: the newer, by
	// ancestry, of the PR's previous source commit and MergeCommit.
	SourceCommit string `json:"sourceCommit"`
	// OriginPRs are the origin PRs the PR now carries.
	OriginPRs []int `json:"originPrs"`
}

// EventType implements Payload.
func (*PromotionPRUpdated) EventType() string { return TypePromotionPRUpdated }

// PromotionMerged records a promotion PR merged automatically.
type PromotionMerged struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	Number      int    `json:"number"`
	// MergedAs is the commit the promotion PR's merge created.
	MergedAs string `json:"mergedAs"`
	// Attempts is how many merge calls it took.
	Attempts int `json:"attempts"`
}

// EventType implements Payload.
func (*PromotionMerged) EventType() string { return TypePromotionMerged }

// PromotionInSync records a plan entry whose targets already match their
// sources: no PR was opened, and an open promotion PR of the group, if
// any, was closed.
type PromotionInSync struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	// ClosedPR is the open promotion PR closed because nothing was left to
	// promote.
	ClosedPR int `json:"closedPr,omitempty"`
}

// EventType implements Payload.
func (*PromotionInSync) EventType() string { return TypePromotionInSync }

// PromotionFailed records a plan entry the promoter gave up on.
type PromotionFailed struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	// Stage is the step that failed, e.g. "build", "open", "merge".
	Stage string `json:"stage"`
	Error string `json:"error"`
	// Number is the promotion PR, when one was opened before the failure.
	Number int `json:"number,omitempty"`
}

// EventType implements Payload.
func (*PromotionFailed) EventType() string { return TypePromotionFailed }

// Outcomes of a plan entry (PromotionEntryFinished.Outcome).
const (
	OutcomeOpened   = "opened"
	OutcomeUpdated  = "updated"
	OutcomeAdopted  = "adopted"
	OutcomeMerged   = "merged"
	OutcomeInSync   = "in_sync"
	OutcomeRejected = "rejected" // perChange: the branch's PR was closed unmerged; left alone
	OutcomeFailed   = "failed"
)

// PromotionEntryFinished is the last event the promoter publishes for a
// plan entry; the planner counts them to finish the run.
type PromotionEntryFinished struct {
	RunID       string `json:"runId"`
	Key         string `json:"key"`
	MergeCommit string `json:"mergeCommit"`
	Outcome     string `json:"outcome"`
	Number      int    `json:"number,omitempty"`
	// Error is set for OutcomeFailed.
	Error string `json:"error,omitempty"`
}

// EventType implements Payload.
func (*PromotionEntryFinished) EventType() string { return TypePromotionEntryFinished }

// PromotionEntryFailure is one failed entry of a run.
type PromotionEntryFailure struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// PromotionRunFinished records the end of a run: every entry finished and
// the origin PR's status was set to State ("success" or "error").
type PromotionRunFinished struct {
	RunID       string `json:"runId"`
	MergeCommit string `json:"mergeCommit"`
	HeadSHA     string `json:"headSha"`
	State       string `json:"state"`
	// Outcomes maps each plan key to its outcome.
	Outcomes map[string]string       `json:"outcomes"`
	Failures []PromotionEntryFailure `json:"failures,omitempty"`
}

// EventType implements Payload.
func (*PromotionRunFinished) EventType() string { return TypePromotionRunFinished }

func init() {
	register(func() Payload { return &PromotionRunStarted{} })
	register(func() Payload { return &PromotionPlanned{} })
	register(func() Payload { return &PromotionPROpened{} })
	register(func() Payload { return &PromotionPRUpdated{} })
	register(func() Payload { return &PromotionMerged{} })
	register(func() Payload { return &PromotionInSync{} })
	register(func() Payload { return &PromotionFailed{} })
	register(func() Payload { return &PromotionEntryFinished{} })
	register(func() Payload { return &PromotionRunFinished{} })
}
