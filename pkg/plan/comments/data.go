package comments

import (
	"sort"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// AutoMerge renders the comment posted on the origin PR before a promotion
// PR is merged automatically.
func (r *Renderer) AutoMerge(prNumber int) (string, error) {
	return r.Render("autoMerge", map[string]any{"prNumber": prNumber})
}

// Failure is one plan entry that could not be promoted.
type Failure struct {
	Key   string // the plan key
	Error string
}

// PromotionFailedData is the data of promotionFailed.
type PromotionFailedData struct {
	Failures []Failure
	// Fence is a backtick fence longer than any run in the failures.
	Fence string
}

// PromotionFailed renders the `Failed to promote:` comment, one
// `<plan key>: <error>` line per failure, in plan-key order.
func (r *Renderer) PromotionFailed(failures []Failure) (string, error) {
	fs := append([]Failure(nil), failures...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Key < fs[j].Key })
	var all strings.Builder
	for i := range fs {
		fs[i].Error = oneLine(fs[i].Error)
		all.WriteString(fs[i].Key + ": " + fs[i].Error + "\n")
	}
	return r.Render("promotionFailed", PromotionFailedData{Failures: fs, Fence: config.Fence(all.String())})
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// CycleGuardData is the data of cycleGuard.
type CycleGuardData struct {
	Depth int // the origin PR's history levels
	Max   int // the limit
}

// CycleGuard renders the comment on an origin PR whose chain is too deep.
func (r *Renderer) CycleGuard(depth, max int) (string, error) {
	return r.Render("cycleGuard", CycleGuardData{Depth: depth, Max: max})
}

// TooLargeData is the data of tooLargePr.
type TooLargeData struct {
	Limit int // GitHub's file-list limit (3,000)
}

// TooLargePR renders the comment on an origin PR whose file list GitHub
// truncated.
func (r *Renderer) TooLargePR(limit int) (string, error) {
	return r.Render("tooLargePr", TooLargeData{Limit: limit})
}

// ConfigErrorData is the data of configError.
type ConfigErrorData struct {
	Findings []config.Finding // the error findings (all findings if none is an error)
	Lines    []string         // <file>:<line>:<column>: <key path>: <message>
	Fence    string
}

// ConfigError renders the configuration-error comment. With the built-in
// template it equals config.ErrorComment.
func (r *Renderer) ConfigError(findings []config.Finding) (string, error) {
	list := config.Errors(findings)
	if len(list) == 0 {
		list = findings
	}
	d := ConfigErrorData{Findings: list}
	for _, f := range list {
		d.Lines = append(d.Lines, f.CommentLine())
	}
	d.Fence = config.Fence(strings.Join(d.Lines, "\n"))
	return r.Render("configError", d)
}

// SupersededData is the data of supersededPr.
type SupersededData struct {
	NewPrNumber int
}

// Superseded renders the comment that closes a promotion PR someone else
// pushed to, pointing at its replacement.
func (r *Renderer) Superseded(newPR int) (string, error) {
	return r.Render("supersededPr", SupersededData{NewPrNumber: newPR})
}

// SupersededOriginal renders the comment that closes a promotion PR the
// original Telefonistka left open, pointing at the PR its changes continue in.
func (r *Renderer) SupersededOriginal(newPR int) (string, error) {
	return r.Render("supersededOriginalPr", SupersededData{NewPrNumber: newPR})
}

// InSync renders the comment that closes a promotion PR whose targets
// already match their sources.
func (r *Renderer) InSync() (string, error) { return r.Render("inSyncPr", struct{}{}) }

// AutoApproveFailedData is the data of autoApproveFailed.
type AutoApproveFailedData struct {
	Reason string
}

// AutoApproveFailed renders the comment explaining why a promotion PR was
// not approved.
func (r *Renderer) AutoApproveFailed(reason string) (string, error) {
	return r.Render("autoApproveFailed", AutoApproveFailedData{Reason: reason})
}

// AutoMergeFailedData is the data of autoMergeFailed.
type AutoMergeFailedData struct {
	PrNumber int
	Message  string // GitHub's message
}

// AutoMergeFailed renders the comment on the origin PR when merging a
// promotion PR failed permanently.
func (r *Renderer) AutoMergeFailed(prNumber int, message string) (string, error) {
	return r.Render("autoMergeFailed", AutoMergeFailedData{PrNumber: prNumber, Message: message})
}

// ForeignPushData is the data of foreignPushPr.
type ForeignPushData struct {
	BotCommit string // the first 7 hex of the commit Telefonistka last wrote
}

// ForeignPush renders the comment on a promotion PR someone else pushed to:
// the bot no longer approves or merges it.
func (r *Renderer) ForeignPush(botCommit string) (string, error) {
	if len(botCommit) > 7 {
		botCommit = botCommit[:7]
	}
	return r.Render("foreignPushPr", ForeignPushData{BotCommit: botCommit})
}
