package events

// Argo CD diff events: the argodiff service compares, for each component of
// an open PR, the live Argo CD application with the manifests at the PR
// head, and comments the result. Each run (a pull_request opened, reopened
// or synchronize delivery, or /retrigger) ends in argodiff.commented, or
// argodiff.failed when it gave up before commenting (the diff of some
// components failing is still argodiff.commented, with those components'
// errors). Event ids derive from the run, so a redelivered run publishes
// nothing new within the duplicate window.

// Wire names of the Argo CD diff events.
const (
	TypeArgoDiffCommented = "argodiff.commented.v1"
	TypeArgoDiffFailed    = "argodiff.failed.v1"
)

// Component results of an Argo CD diff.
const (
	ArgoDiffChanged = "diff"
	ArgoDiffNoDiff  = "nodiff"
	// ArgoDiffSynced: the app already follows the PR branch with auto-sync
	// (the diff was skipped).
	ArgoDiffSynced = "synced"
	ArgoDiffNoApp  = "noapp"
	ArgoDiffError  = "error"
)

// ArgoDiffCommented records the Argo CD diff comment(s) of a run.
type ArgoDiffCommented struct {
	HeadSHA string `json:"headSha"`
	// Components are the PR's components, sorted by path.
	Components []ArgoDiffComponent `json:"components"`
	// CommentIDs are the ids of the comments posted (more than one when
	// the comment was split per component).
	CommentIDs []int64 `json:"commentIds"`
	// NoDiff is set when every component had no diff (the PR got the noop
	// label); AutoMerged when the PR was then merged (autoMergeNoDiffPRs).
	NoDiff     bool `json:"noDiff,omitempty"`
	AutoMerged bool `json:"autoMerged,omitempty"`
}

// EventType implements Payload.
func (*ArgoDiffCommented) EventType() string { return TypeArgoDiffCommented }

// ArgoDiffComponent is one component's result.
type ArgoDiffComponent struct {
	Path string `json:"path"`
	// App is the Argo CD application ("" when none was found); Temporary
	// is set for one created from an ApplicationSet for the preview.
	App       string `json:"app,omitempty"`
	Temporary bool   `json:"temporary,omitempty"`
	// Result is one of the ArgoDiff* results.
	Result string `json:"result"`
	// Objects counts the objects that differ.
	Objects int `json:"objects,omitempty"`
	// Error says why the diff failed (result "error").
	Error string `json:"error,omitempty"`
}

// ArgoDiffFailed records a run that ended without its comment: Argo CD
// stayed unreachable through every redelivery, the event timed out, or a
// permanent error.
type ArgoDiffFailed struct {
	HeadSHA string `json:"headSha"`
	Reason  string `json:"reason"`
}

// EventType implements Payload.
func (*ArgoDiffFailed) EventType() string { return TypeArgoDiffFailed }

func init() {
	register(func() Payload { return &ArgoDiffCommented{} })
	register(func() Payload { return &ArgoDiffFailed{} })
}
