package comments

import (
	"sort"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/plan"
)

// DryRunEntry is the data of one plan entry in the dry-run comment. The
// first three fields are the original's data, kept for existing overrides.
type DryRunEntry struct {
	Metadata DryRunMetadata
	// ComputedSyncPaths maps each target path to its source path.
	ComputedSyncPaths map[string]string

	// SourceLabel is the entry's source label.
	SourceLabel string
	// Sync are the ✅ lines, sorted by target; Ignored marks fan-in losers
	// whose trees differ from the winner's.
	Sync []DryRunPair
	// Skipped are the 🚫 lines, sorted by component path.
	Skipped []DryRunSkip
	// AlreadyInSync is true when the entry would change nothing.
	AlreadyInSync bool
	// Title is the title the PR would get.
	Title string
	Key   string
}

// DryRunMetadata is the original's .Metadata.
type DryRunMetadata struct {
	// SourcePath is the entry's source label.
	SourcePath string
	// PerComponentSkippedTargetPaths maps a component name to its skipped
	// target directories.
	PerComponentSkippedTargetPaths map[string][]string
}

// DryRunPair is one ✅ line.
type DryRunPair struct {
	Source, Target string
	Ignored        bool
}

// DryRunSkip is one 🚫 line.
type DryRunSkip struct {
	Component string   // source dir + component
	Targets   []string // skipped target directories
}

// Planned is a plan entry with what is known about its trees.
type Planned struct {
	Entry *plan.Entry
	// AlreadyInSync: the sync would change nothing (§5.5).
	AlreadyInSync bool
	// DifferingDuplicates are the fan-in duplicates whose source trees
	// differ; their losing pairs are shown as ignored.
	DifferingDuplicates []plan.DuplicateTarget
	// Title is the PR title (see prtext.Title).
	Title string
}

// NewDryRunEntry builds the template data of one entry.
func NewDryRunEntry(p Planned) DryRunEntry {
	e := p.Entry
	d := DryRunEntry{
		Metadata:          DryRunMetadata{SourcePath: e.SourceLabel(), PerComponentSkippedTargetPaths: map[string][]string{}},
		ComputedSyncPaths: map[string]string{},
		SourceLabel:       e.SourceLabel(),
		AlreadyInSync:     p.AlreadyInSync,
		Title:             p.Title,
		Key:               e.Key,
	}
	for _, s := range e.Sync {
		d.Sync = append(d.Sync, DryRunPair{Source: s.Source(), Target: s.Target()})
		d.ComputedSyncPaths[s.Target()] = s.Source()
	}
	for _, dup := range p.DifferingDuplicates {
		d.Sync = append(d.Sync, DryRunPair{Source: dup.Loser.Source(), Target: dup.Loser.Target(), Ignored: true})
	}
	sort.SliceStable(d.Sync, func(i, j int) bool {
		a, b := d.Sync[i], d.Sync[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.Ignored != b.Ignored {
			return !a.Ignored
		}
		return a.Source < b.Source
	})
	skipped := e.SkippedTargets()
	paths := make([]string, 0, len(skipped))
	for p := range skipped {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		d.Skipped = append(d.Skipped, DryRunSkip{Component: path, Targets: skipped[path]})
	}
	byName := map[string]map[string]bool{}
	for _, s := range e.Skipped {
		if byName[s.Component] == nil {
			byName[s.Component] = map[string]bool{}
		}
		byName[s.Component][s.TargetDir] = true
	}
	for name, set := range byName {
		list := make([]string, 0, len(set))
		for t := range set {
			list = append(list, t)
		}
		sort.Strings(list)
		d.Metadata.PerComponentSkippedTargetPaths[name] = list
	}
	return d
}

// DryRunData is the dry-run template's data: a map from plan key to entry
// (templates range over it in plan-key order).
func DryRunData(entries []Planned) map[string]DryRunEntry {
	out := make(map[string]DryRunEntry, len(entries))
	for _, p := range entries {
		out[p.Entry.Key] = NewDryRunEntry(p)
	}
	return out
}

// DryRun renders the dry-run / show-plan comment.
func (r *Renderer) DryRun(entries []Planned) (string, error) {
	return r.Render("dryRunMsg", DryRunData(entries))
}

// DryRunBlock renders one entry's fenced block with the built-in
// sub-template (used by `telefonistka plan`), without the marker.
func (r *Renderer) DryRunBlock(p Planned) (string, error) {
	var b strings.Builder
	if err := r.Execute(&b, "dryRunBlock", NewDryRunEntry(p)); err != nil {
		return "", err
	}
	return b.String(), nil
}
