package metadata

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// MaxChainDepth is the number of history levels at which an origin PR is no
// longer promoted: the chain looks cyclic.
const MaxChainDepth = 20

// Origin is a merged PR that causes a promotion.
type Origin struct {
	Number int
	// Author is the origin PR's author login.
	Author string
	// Metadata is the origin PR's block, or nil if it has none.
	Metadata *Metadata
}

// Depth returns the number of history levels the origin already carries.
func (o Origin) Depth() int {
	if o.Metadata == nil {
		return 0
	}
	return len(o.Metadata.PreviousPromotionPaths)
}

// parents returns the history keys the origin PR came out of: the origin
// PRs its metadata names; for metadata written by the original (a single
// chain, no originPrs), its newest history level; none for a person's PR.
func (o Origin) parents() []string {
	if o.Metadata == nil {
		return []string{}
	}
	out := []string{}
	for _, n := range o.Metadata.OriginPrs {
		out = append(out, strconv.Itoa(n))
	}
	if keys := o.Metadata.HistoryKeys(); len(out) == 0 && len(keys) > 0 {
		out = append(out, keys[len(keys)-1])
	}
	return out
}

// TooDeep reports whether the cycle guard stops this origin.
func (o Origin) TooDeep() bool { return o.Depth() >= MaxChainDepth }

// Authors returns the people who started the origin's chain.
func (o Origin) Authors() []string {
	if o.Metadata == nil {
		return nonEmpty([]string{o.Author})
	}
	if len(o.Metadata.OriginalPrAuthors) > 0 {
		return nonEmpty(o.Metadata.OriginalPrAuthors)
	}
	if o.Metadata.OriginalPrAuthor != "" {
		return []string{o.Metadata.OriginalPrAuthor}
	}
	return nonEmpty([]string{o.Author})
}

// OriginalPrNumber returns the human PR that started the origin's chain.
func (o Origin) OriginalPrNumber() int {
	if o.Metadata == nil {
		return o.Number
	}
	if o.Metadata.OriginalPrNumber != 0 {
		return o.Metadata.OriginalPrNumber
	}
	// Written by the original, which left it 0: the smallest history key.
	for _, k := range o.Metadata.HistoryKeys() {
		if n, err := strconv.Atoi(k); err == nil {
			return n
		}
	}
	return o.Number
}

func nonEmpty(s []string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(v string) bool { return v == "" })
}

// Promotion describes a plan entry's promotion PR, for Build.
type Promotion struct {
	// Key is the plan key.
	Key string
	// SourceLabel is the entry's source label (plan.Entry.SourceLabel).
	SourceLabel string
	// Targets are the entry's sorted canonical target directories.
	Targets []string
	// PromotedPaths are the sorted target component paths.
	PromotedPaths []string
	Components    []ComponentRef
	SourceCommit  string
	Policy        string
}

// Build returns the metadata of a promotion PR caused by origins (one for a
// new PR; several when a superseding PR carries several merges).
func Build(p Promotion, origins []Origin) Metadata {
	m := Metadata{
		PromotedPaths:          slices.Clone(p.PromotedPaths),
		PreviousPromotionPaths: map[string]PromotionPath{},
		HistoryParents:         map[string][]string{},
		PromotionKey:           p.Key,
		Components:             slices.Clone(p.Components),
		SourceCommit:           p.SourceCommit,
		Policy:                 p.Policy,
	}
	for i, o := range origins {
		if i == 0 {
			m.OriginalPrNumber = o.OriginalPrNumber()
		}
		m.OriginalPrAuthors = union(m.OriginalPrAuthors, o.Authors())
		if o.Metadata != nil {
			for k, v := range o.Metadata.PreviousPromotionPaths {
				m.PreviousPromotionPaths[k] = v
			}
			for k, v := range o.Metadata.HistoryParents {
				m.HistoryParents[k] = slices.Clone(v)
			}
		}
		key := strconv.Itoa(o.Number)
		m.PreviousPromotionPaths[key] = PromotionPath{SourcePath: p.SourceLabel, TargetPaths: slices.Clone(p.Targets)}
		m.HistoryParents[key] = o.parents()
		m.OriginPrs = append(m.OriginPrs, o.Number)
	}
	finish(&m)
	return m
}

// Merge carries an open superseding PR's metadata forward with a newer
// promotion of the same group: components, origin PRs, authors and history
// are united; key, policy, source commit and promoted paths come from next
// (the caller sets SourceCommit to the newer commit by ancestry, and
// PromotedPaths from the rebuilt entry). Unknown fields of both survive.
func Merge(existing, next Metadata) Metadata {
	m := next
	m.Extra = nil
	for _, src := range []map[string]json.RawMessage{existing.Extra, next.Extra} {
		for k, v := range src {
			if m.Extra == nil {
				m.Extra = map[string]json.RawMessage{}
			}
			m.Extra[k] = v
		}
	}
	if existing.OriginalPrNumber != 0 {
		m.OriginalPrNumber = existing.OriginalPrNumber
	}
	m.OriginalPrAuthors = union(existing.OriginalPrAuthors, next.OriginalPrAuthors)
	m.OriginPrs = append(slices.Clone(existing.OriginPrs), next.OriginPrs...)
	m.Components = append(slices.Clone(existing.Components), next.Components...)
	m.PreviousPromotionPaths = map[string]PromotionPath{}
	for _, src := range []map[string]PromotionPath{existing.PreviousPromotionPaths, next.PreviousPromotionPaths} {
		for k, v := range src {
			m.PreviousPromotionPaths[k] = v
		}
	}
	m.HistoryParents = map[string][]string{}
	for _, src := range []map[string][]string{existing.HistoryParents, next.HistoryParents} {
		for k, v := range src {
			m.HistoryParents[k] = slices.Clone(v)
		}
	}
	if m.BranchCommit == "" {
		m.BranchCommit = existing.BranchCommit
	}
	finish(&m)
	return m
}

// finish sorts and deduplicates the lists and sets originalPrAuthor.
func finish(m *Metadata) {
	slices.Sort(m.OriginPrs)
	m.OriginPrs = slices.Compact(m.OriginPrs)
	slices.Sort(m.PromotedPaths)
	m.PromotedPaths = slices.Compact(m.PromotedPaths)
	slices.SortFunc(m.Components, func(a, b ComponentRef) int {
		return cmp.Or(strings.Compare(a.SourcePath+a.Name, b.SourcePath+b.Name), strings.Compare(a.Name, b.Name))
	})
	m.Components = slices.Compact(m.Components)
	if len(m.OriginalPrAuthors) > 0 {
		m.OriginalPrAuthor = m.OriginalPrAuthors[0]
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
