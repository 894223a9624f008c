package config

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxComponentPathExtraDepth bounds componentPathExtraDepth.
const MaxComponentPathExtraDepth = 100

// Flow is one promotionPaths element.
type Flow struct {
	// Index is the position in promotionPaths.
	Index int
	// SourcePath is the canonical source pattern: the configured value with
	// trailing "/" stripped, plus one "/".
	SourcePath              string
	ComponentPathExtraDepth int
	// PrHasLabels is the label condition; empty means none.
	PrHasLabels []string
	AutoMerge   bool
	// PromotionPrs are the target groups: the promotionPrs elements first,
	// then the legacy targetPaths lists.
	PromotionPrs []PromotionPR

	pattern   string // SourcePath without its trailing "/"
	prefix    string // pattern + "/" for literal patterns, else the regex's literal prefix
	literal   bool   // pattern has no regex metacharacters
	under     *regexp.Regexp
	component *regexp.Regexp
	compGroup int
}

// PromotionPR is one target group of a flow: one promotion PR.
type PromotionPR struct {
	// TargetPaths are the canonical target directories, sorted by bytes and
	// deduplicated.
	TargetPaths []string
	// RawTargetPaths are the targets as written (one spelling per canonical
	// target), sorted by bytes. perChange branch names hash these.
	RawTargetPaths []string
	// TargetDescription is the configured text, or the canonical targets
	// joined by spaces.
	TargetDescription string
	// Legacy is true for a group from the list-of-lists targetPaths form.
	Legacy bool
}

// Match is where a file sits relative to a flow.
type Match struct {
	// SourceDir is the directory the pattern matched, ending in "/".
	SourceDir string
	// Component is the component name ("nginx", or "teamA/ns/nginx" with
	// componentPathExtraDepth 2). Empty when the file has no component.
	Component string
}

// ComponentPath returns SourceDir + Component.
func (m Match) ComponentPath() string { return m.SourceDir + m.Component }

// Under reports whether path is under the flow's source pattern.
func (f *Flow) Under(path string) bool {
	if f.literal {
		return strings.HasPrefix(path, f.prefix)
	}
	if f.under == nil || !strings.HasPrefix(path, f.prefix) {
		return false
	}
	return f.under.MatchString(path)
}

// Component returns the source directory and component of a file under the
// flow. ok is false when the file is not under the flow or is not deep
// enough to belong to a component.
func (f *Flow) Component(path string) (m Match, ok bool) {
	if f.literal {
		return f.literalComponent(path)
	}
	if f.component == nil || !strings.HasPrefix(path, f.prefix) {
		return Match{}, false
	}
	idx := f.component.FindStringSubmatchIndex(path)
	if idx == nil {
		return Match{}, false
	}
	start, end := idx[2*f.compGroup], idx[2*f.compGroup+1]
	return Match{SourceDir: path[:start], Component: path[start:end]}, true
}

func (f *Flow) literalComponent(path string) (Match, bool) {
	prefix := f.prefix
	if !strings.HasPrefix(path, prefix) {
		return Match{}, false
	}
	rest := path[len(prefix):]
	end := 0
	for seg := 0; seg <= f.ComponentPathExtraDepth; seg++ {
		i := strings.IndexByte(rest[end:], '/')
		if i <= 0 { // no further "/" or an empty segment
			return Match{}, false
		}
		end += i + 1
	}
	if end >= len(rest) {
		return Match{}, false
	}
	return Match{SourceDir: prefix, Component: rest[:end-1]}, true
}

// LiteralPrefix returns a string every path under the flow starts with
// (possibly empty), for indexing flows.
func (f *Flow) LiteralPrefix() string { return f.prefix }

// Eligible reports whether a PR with these labels meets the flow's label
// condition.
func (f *Flow) Eligible(labels []string) bool {
	if len(f.PrHasLabels) == 0 {
		return true
	}
	for _, l := range labels {
		if slices.Contains(f.PrHasLabels, l) {
			return true
		}
	}
	return false
}

// compile prepares the matchers for a pattern (without trailing "/").
func (f *Flow) compile(pattern string, depth int) error {
	f.pattern, f.prefix = pattern, pattern+"/"
	f.literal = regexp.QuoteMeta(pattern) == pattern
	under, err := regexp.Compile(`^(?:` + pattern + `)/`)
	if err != nil {
		return err
	}
	comp, err := regexp.Compile(`^(?:` + pattern + `)/([^/]+(?:/[^/]+){` + strconv.Itoa(depth) + `})/(?s:.+)$`)
	if err != nil {
		return err
	}
	f.under, f.component, f.compGroup = under, comp, under.NumSubexp()+1
	if !f.literal {
		// Every match of the unanchored form starts with its literal prefix,
		// so every match of the anchored form starts the path with it.
		if unanchored, err := regexp.Compile(`(?:` + pattern + `)/`); err == nil {
			f.prefix, _ = unanchored.LiteralPrefix()
		}
	}
	return nil
}
