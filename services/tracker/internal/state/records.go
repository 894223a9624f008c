// Package state is the tracker's projection: the records it keeps in
// JetStream KV and how each event changes them. It is pure (no I/O).
//
// Every record is a join-semilattice: Merge is commutative, associative and
// idempotent, and an event becomes "facts", partial records merged into
// what is stored. So the state after a set of events does not depend on the
// order they were handled in (two streams, parallel keys, redeliveries,
// several replicas), and replaying the streams from the start rebuilds the
// same records.
package state

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// PR is what the tracker knows about one pull request: the origin PR of a
// change or a promotion PR.
type PR struct {
	Repo   events.Repo `json:"repo"`
	Number int         `json:"number"`
	Title  Register    `json:"title,omitzero"`
	URL    string      `json:"url,omitempty"`
	Author string      `json:"author,omitempty"`
	// Open is whether the PR is open, as of its newest open or close.
	Open *Switch `json:"open,omitempty"`
	// Merged is set once the PR is merged.
	Merged *Merge `json:"merged,omitempty"`
	// Promotion is true for a promotion PR (labelled "promotion", or named
	// by a promotion event).
	Promotion bool `json:"promotion,omitempty"`
	// ArgoDiff is the newest Argo CD diff result of the PR.
	ArgoDiff *ArgoDiff `json:"argoDiff,omitempty"`
}

// Register is a last-writer-wins value: the newest At wins, ties go to the
// greater value.
type Register struct {
	Value string    `json:"value,omitempty"`
	At    time.Time `json:"at,omitzero"`
}

// Switch is a last-writer-wins boolean (open/closed): the newest At wins,
// a tie goes to false (closed).
type Switch struct {
	On bool      `json:"on"`
	At time.Time `json:"at"`
}

// Merge is a PR's merge: the earliest time reported and its commit.
type Merge struct {
	At     time.Time `json:"at,omitzero"`
	Commit string    `json:"commit,omitempty"`
}

// ArgoDiff is the summary of an Argo CD diff of a PR head.
type ArgoDiff struct {
	HeadSHA string    `json:"headSha"`
	At      time.Time `json:"at"`
	// Result is ArgoChanged (some component differs), ArgoNoDiff or
	// ArgoFailed (the diff failed, for every component or as a whole).
	Result string `json:"result"`
	// Changed counts components with a diff, Failed those whose diff
	// failed, of Components.
	Changed    int    `json:"changed,omitempty"`
	Failed     int    `json:"failed,omitempty"`
	Components int    `json:"components,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Run is one merge's promotion run: the merged PR (the origin of the run)
// and the plan entries it opened.
type Run struct {
	ID          string      `json:"id"`
	Repo        events.Repo `json:"repo"`
	OriginPR    int         `json:"originPr,omitempty"`
	MergeCommit string      `json:"mergeCommit,omitempty"`
	HeadSHA     string      `json:"headSha,omitempty"`
	// Keys are the plan keys of the run's entries.
	Keys []string `json:"keys,omitempty"`
	// Journeys are the changes (original PRs) the run carries.
	Journeys []int `json:"journeys,omitempty"`
	// Depth is how many levels of history the origin PR's metadata holds
	// (0 for a person's PR).
	Depth   int       `json:"depth,omitempty"`
	Started time.Time `json:"started,omitzero"`
	// Comment is true when the repository asked for the origin-PR comment
	// (promotionTrackerComment) at the run's merge commit.
	Comment  bool    `json:"comment,omitempty"`
	Finished *RunEnd `json:"finished,omitempty"`
}

// RunEnd is how a run finished.
type RunEnd struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Entry is one plan entry of a run: one promotion PR to open or update.
type Entry struct {
	ID          string      `json:"id"`
	RunID       string      `json:"runId"`
	Repo        events.Repo `json:"repo"`
	Key         string      `json:"key"`
	MergeCommit string      `json:"mergeCommit,omitempty"`
	Plan        *Plan       `json:"plan,omitempty"`
	// PRs are the promotion PRs of the entry (one; two when a PR replaced
	// another).
	PRs      []int     `json:"prs,omitempty"`
	Opened   bool      `json:"opened,omitempty"`
	Updated  bool      `json:"updated,omitempty"`
	Merged   *Merge    `json:"merged,omitempty"`
	InSync   bool      `json:"inSync,omitempty"`
	Failure  *Failure  `json:"failure,omitempty"`
	Outcome  *Outcome  `json:"outcome,omitempty"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	Journeys []int     `json:"journeys,omitempty"`
}

// Plan is what the planner planned for an entry.
type Plan struct {
	SourcePath        string   `json:"sourcePath"`
	Targets           []string `json:"targets"`
	TargetDescription string   `json:"targetDescription,omitempty"`
	Components        []string `json:"components"`
	Pairs             []Pair   `json:"pairs"`
	Policy            string   `json:"policy,omitempty"`
	Branch            string   `json:"branch,omitempty"`
	AutoMerge         bool     `json:"autoMerge,omitempty"`
}

// Pair is a sync pair: TargetDir+Component gets SourceDir+Component.
type Pair struct {
	SourceDir string `json:"sourceDir"`
	TargetDir string `json:"targetDir"`
	Component string `json:"component"`
}

// Failure is why the promoter gave up on an entry (the newest report).
type Failure struct {
	Stage string    `json:"stage"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Outcome is the promoter's final word on an entry.
type Outcome struct {
	Outcome string    `json:"outcome"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// Journey is a change's journey: the original PR and every run that
// carried it on.
type Journey struct {
	Repo   events.Repo `json:"repo"`
	Number int         `json:"number"`
	Runs   []string    `json:"runs"`
	// Comment is true once any run of the journey asked for the comment.
	Comment bool      `json:"comment,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Last    time.Time `json:"last,omitzero"`
}

// Cell is one component of one target directory: the newest promotion
// PRs that synced it (at most CellPRs), with the changes each carried.
type Cell struct {
	Repo      events.Repo `json:"repo"`
	Dir       string      `json:"dir"`
	Component string      `json:"component"`
	PRs       []CellPR    `json:"prs"`
}

// CellPR is a promotion PR that synced a cell, and the changes it carried.
type CellPR struct {
	Number  int      `json:"number"`
	Changes []Change `json:"changes"`
}

// Change names a change: its original PR and the merge commit the
// promotion read its sources at.
type Change struct {
	PR     int    `json:"pr"`
	Commit string `json:"commit"`
}

// CellPRs is how many promotion PRs a cell remembers (the newest by
// number): enough to find the last merged one and the open ones.
const CellPRs = 12

// Keys. KV keys allow letters, digits and "-_=./": owner and name are
// escaped by keyToken, target directories hashed.

// PRKey is the key of a PR record.
func PRKey(repo events.Repo, number int) string {
	return "pr." + RepoKey(repo) + "." + strconv.Itoa(number)
}

// RunKey is the key of a run record.
func RunKey(id string) string { return "run." + keyToken(id) }

// EntryKey is the key of an entry record.
func EntryKey(id string) string { return "entry." + keyToken(id) }

// JourneyKey is the key of a journey record.
func JourneyKey(repo events.Repo, number int) string {
	return "journey." + RepoKey(repo) + "." + strconv.Itoa(number)
}

// CellKey is the key of a cell record: a target directory and component,
// hashed (a path may hold any byte).
func CellKey(repo events.Repo, dir, component string) string {
	h := sha256.Sum256([]byte(dir + "\x00" + component))
	return "cell." + RepoKey(repo) + "." + hex.EncodeToString(h[:12])
}

// RepoKey is the two key tokens of a repository.
func RepoKey(repo events.Repo) string { return keyToken(repo.Owner) + "." + keyToken(repo.Name) }

// keyToken escapes s into one KV key token: bytes outside [A-Za-z0-9_-]
// become "=XX".
func keyToken(s string) string {
	if s == "" {
		return "="
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		const hexdigits = "0123456789ABCDEF"
		b.WriteByte('=')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}
