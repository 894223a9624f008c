package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// PromotionLabel is the label every promotion PR carries.
const PromotionLabel = "promotion"

// ComponentConfigs looks up component configurations.
//
// ComponentConfig gets a component path (source dir + component, no
// trailing "/") and returns its parsed configuration: nil (or an empty
// config) with a nil error when the component has no telefonistka.yaml, a
// *config.Error when the file is invalid, or another error when it could not
// be read. Any error fails closed for that component only.
type ComponentConfigs interface {
	ComponentConfig(componentPath string) (*config.ComponentConfig, error)
}

// ComponentConfigFunc adapts a function to ComponentConfigs.
type ComponentConfigFunc func(componentPath string) (*config.ComponentConfig, error)

// ComponentConfig calls f.
func (f ComponentConfigFunc) ComponentConfig(p string) (*config.ComponentConfig, error) { return f(p) }

// Component is a component found in a source directory.
type Component struct {
	SourceDir string `json:"sourcePath"` // ends in "/"
	Name      string `json:"name"`
}

// Path returns the component path: SourceDir + Name.
func (c Component) Path() string { return c.SourceDir + c.Name }

// SyncPair says: make TargetDir+Component exactly SourceDir+Component.
type SyncPair struct {
	SourceDir string // ends in "/"
	TargetDir string // ends in "/"
	Component string
}

// Source returns the source component path (no trailing "/").
func (p SyncPair) Source() string { return p.SourceDir + p.Component }

// Target returns the target component path (no trailing "/").
func (p SyncPair) Target() string { return p.TargetDir + p.Component }

// DuplicateTarget records a fan-in conflict: two sources of one entry map
// to the same target. The winner's source directory sorts first by bytes.
type DuplicateTarget struct {
	Winner, Loser SyncPair
}

// Target returns the contested target path.
func (d DuplicateTarget) Target() string { return d.Winner.Target() }

// Note is the body line for a duplicate whose trees differ.
func (d DuplicateTarget) Note() string {
	return fmt.Sprintf("Note: %s had several sources in this change; %s was used, %s was not.", d.Target(), d.Winner.Source(), d.Loser.Source())
}

// Group is a promotion group: one flow's target group.
type Group struct {
	// SourcePath is the flow's canonical source pattern (ends in "/").
	SourcePath string
	// FlowIndex is the flow's position in promotionPaths.
	FlowIndex int
	// Targets are the canonical target directories, sorted.
	Targets []string
	// RawTargets are the targets as configured, sorted; perChange branch
	// names hash them.
	RawTargets        []string
	TargetDescription string
	// AutoMerge is true only if every contributing flow has autoMerge.
	AutoMerge bool

	key string // cached Key()
}

// Key returns the plan key: SourcePath + ">" + Targets joined by "|".
func (g Group) Key() string { return g.SourcePath + ">" + strings.Join(g.Targets, "|") }

// Entry is one promotion PR to open or update.
type Entry struct {
	Group
	// Key is the plan key (Group.Key()).
	Key string
	// Components are every component that joined the entry, including those
	// whose targets were all skipped, sorted by path.
	Components []Component
	// Sync are the pairs to apply, sorted by target then source. Fan-in
	// losers are not included.
	Sync []SyncPair
	// Skipped are the pairs removed by block or allow lists, sorted by
	// source then target.
	Skipped []SyncPair
	// Duplicates are the fan-in conflicts, sorted by target then loser.
	Duplicates []DuplicateTarget
	// Labels are "promotion" followed by the configured labels.
	Labels []string

	byTarget [][]SyncPair // sync pairs per target while building
}

// HasSync reports whether the entry has anything to apply.
func (e *Entry) HasSync() bool { return len(e.Sync) > 0 }

// Carried returns the entry as its PR carries it: without the components
// whose targets were all skipped (no sync pair, not a fan-in loser), and
// without their skipped pairs. Titles, bodies and metadata list only these.
func (e Entry) Carried() Entry {
	has := map[string]bool{}
	for _, p := range e.Sync {
		has[p.Source()] = true
	}
	for _, d := range e.Duplicates {
		has[d.Loser.Source()] = true
	}
	out := e
	out.Components = nil
	for _, c := range e.Components {
		if has[c.Path()] {
			out.Components = append(out.Components, c)
		}
	}
	out.Skipped = nil
	for _, p := range e.Skipped {
		if has[p.Source()] {
			out.Skipped = append(out.Skipped, p)
		}
	}
	return out
}

// ComponentNames returns the distinct component names, sorted by bytes.
func (e *Entry) ComponentNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range e.Components {
		if !seen[c.Name] {
			seen[c.Name] = true
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return names
}

// SourceDirs returns the distinct source directories, sorted.
func (e *Entry) SourceDirs() []string {
	var dirs []string
	seen := map[string]bool{}
	for _, c := range e.Components {
		if !seen[c.SourceDir] {
			seen[c.SourceDir] = true
			dirs = append(dirs, c.SourceDir)
		}
	}
	sort.Strings(dirs)
	return dirs
}

// SourceLabel is the single source directory, or the distinct source
// directories joined by ", ".
func (e *Entry) SourceLabel() string { return strings.Join(e.SourceDirs(), ", ") }

// PromotedPaths returns the sorted target paths of the sync pairs.
func (e *Entry) PromotedPaths() []string {
	out := make([]string, len(e.Sync))
	for i, p := range e.Sync {
		out[i] = p.Target()
	}
	sort.Strings(out)
	return out
}

// SkippedTargets maps each component path with skips to its skipped target
// directories (sorted).
func (e *Entry) SkippedTargets() map[string][]string {
	out := map[string][]string{}
	for _, p := range e.Skipped {
		out[p.Source()] = append(out[p.Source()], p.TargetDir)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// SkipSet returns the targets to hide from the body history: empty if no
// component has skips or any component has none; otherwise the skipped
// targets of the component with the fewest skips (ties: first path).
func (e *Entry) SkipSet() []string {
	skipped := e.SkippedTargets()
	var best []string
	found := false
	for _, c := range e.Components { // sorted by path
		s, ok := skipped[c.Path()]
		if !ok {
			return nil
		}
		if !found || len(s) < len(best) {
			best, found = s, true
		}
	}
	return best
}

// ComponentError is a component that was left out of the plan because its
// configuration could not be read or is invalid.
type ComponentError struct {
	ComponentPath string
	Err           error
}

func (c ComponentError) Error() string {
	return fmt.Sprintf("component %s: %v", c.ComponentPath, c.Err)
}

// Unwrap returns the lookup error.
func (c ComponentError) Unwrap() error { return c.Err }

// Plan is the result of Compute.
type Plan struct {
	// Entries are in plan-key order.
	Entries []Entry
	// ComponentErrors are the components that failed closed, sorted by path.
	ComponentErrors []ComponentError
	// IgnoredFiles are changed files whose paths are unusable (absolute or
	// with empty, "." or ".." segments).
	IgnoredFiles []string
}
