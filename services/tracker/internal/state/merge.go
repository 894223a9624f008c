package state

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Merge returns the PR that holds the facts of both (nil counts as empty).
func (a *PR) Merge(b *PR) *PR {
	if a == nil {
		return clone(b)
	}
	if b == nil {
		return clone(a)
	}
	return &PR{
		Repo:      a.Repo,
		Number:    a.Number,
		Title:     a.Title.merge(b.Title),
		URL:       greater(a.URL, b.URL),
		Author:    greater(a.Author, b.Author),
		Open:      a.Open.merge(b.Open),
		Merged:    a.Merged.merge(b.Merged),
		Promotion: a.Promotion || b.Promotion,
		ArgoDiff:  a.ArgoDiff.merge(b.ArgoDiff),
	}
}

// State is "merged", "open", "closed", or "" when nothing says.
func (a *PR) State() string {
	switch {
	case a == nil:
		return ""
	case a.Merged != nil:
		return "merged"
	case a.Open == nil:
		return ""
	case a.Open.On:
		return "open"
	}
	return "closed"
}

func (a Register) merge(b Register) Register {
	if b.At.After(a.At) || b.At.Equal(a.At) && b.Value > a.Value {
		return b
	}
	return a
}

func (a *Switch) merge(b *Switch) *Switch {
	switch {
	case a == nil:
		return clone(b)
	case b == nil:
		return clone(a)
	case b.At.After(a.At) || b.At.Equal(a.At) && !b.On:
		return clone(b)
	}
	return clone(a)
}

func (a *Merge) merge(b *Merge) *Merge {
	if a == nil {
		return clone(b)
	}
	if b == nil {
		return clone(a)
	}
	return &Merge{At: earliest(a.At, b.At), Commit: greater(a.Commit, b.Commit)}
}

func (a *ArgoDiff) merge(b *ArgoDiff) *ArgoDiff {
	switch {
	case a == nil:
		return clone(b)
	case b == nil:
		return clone(a)
	case b.At.After(a.At) || b.At.Equal(a.At) && encoded(b) > encoded(a):
		return clone(b)
	}
	return clone(a)
}

// Merge returns the run holding the facts of both.
func (a *Run) Merge(b *Run) *Run {
	if a == nil {
		return clone(b)
	}
	if b == nil {
		return clone(a)
	}
	return &Run{
		ID:          a.ID,
		Repo:        a.Repo,
		OriginPR:    max(a.OriginPR, b.OriginPR),
		MergeCommit: greater(a.MergeCommit, b.MergeCommit),
		HeadSHA:     greater(a.HeadSHA, b.HeadSHA),
		Keys:        union(a.Keys, b.Keys),
		Journeys:    union(a.Journeys, b.Journeys),
		Depth:       max(a.Depth, b.Depth),
		Started:     earliest(a.Started, b.Started),
		Comment:     a.Comment || b.Comment,
		Finished:    newest(a.Finished, b.Finished, func(e *RunEnd) time.Time { return e.At }),
	}
}

// Merge returns the entry holding the facts of both.
func (a *Entry) Merge(b *Entry) *Entry {
	if a == nil {
		return clone(b)
	}
	if b == nil {
		return clone(a)
	}
	return &Entry{
		ID:          a.ID,
		RunID:       greater(a.RunID, b.RunID),
		Repo:        a.Repo,
		Key:         greater(a.Key, b.Key),
		MergeCommit: greater(a.MergeCommit, b.MergeCommit),
		Plan:        greaterJSON(a.Plan, b.Plan),
		PRs:         union(a.PRs, b.PRs),
		Opened:      a.Opened || b.Opened,
		Updated:     a.Updated || b.Updated,
		Merged:      a.Merged.merge(b.Merged),
		InSync:      a.InSync || b.InSync,
		Failure:     newest(a.Failure, b.Failure, func(f *Failure) time.Time { return f.At }),
		Outcome:     newest(a.Outcome, b.Outcome, func(o *Outcome) time.Time { return o.At }),
		First:       earliest(a.First, b.First),
		Last:        latest(a.Last, b.Last),
		Journeys:    union(a.Journeys, b.Journeys),
	}
}

// Merge returns the journey holding the facts of both.
func (a *Journey) Merge(b *Journey) *Journey {
	if a == nil {
		return clone(b)
	}
	if b == nil {
		return clone(a)
	}
	return &Journey{
		Repo:    a.Repo,
		Number:  a.Number,
		Runs:    union(a.Runs, b.Runs),
		Comment: a.Comment || b.Comment,
		Started: earliest(a.Started, b.Started),
		Last:    latest(a.Last, b.Last),
	}
}

// Merge unites the PRs of both cells and keeps the newest CellPRs.
func (a *Cell) Merge(b *Cell) *Cell {
	byNumber := map[int][]Change{}
	var out *Cell
	for _, c := range []*Cell{a, b} {
		if c == nil {
			continue
		}
		if out == nil {
			out = &Cell{Repo: c.Repo, Dir: c.Dir, Component: c.Component}
		}
		for _, p := range c.PRs {
			byNumber[p.Number] = unionChanges(byNumber[p.Number], p.Changes)
		}
	}
	if out == nil {
		return nil
	}
	numbers := slices.Sorted(maps.Keys(byNumber))
	if len(numbers) > CellPRs {
		numbers = numbers[len(numbers)-CellPRs:]
	}
	out.PRs = make([]CellPR, 0, len(numbers))
	for _, n := range numbers {
		out.PRs = append(out.PRs, CellPR{Number: n, Changes: byNumber[n]})
	}
	return out
}

func unionChanges(a, b []Change) []Change {
	out := slices.Concat(a, b)
	slices.SortFunc(out, func(x, y Change) int {
		return cmp.Or(cmp.Compare(x.PR, y.PR), cmp.Compare(x.Commit, y.Commit))
	})
	return slices.Compact(out)
}

// union returns the sorted set of the elements of both.
func union[T cmp.Ordered](a, b []T) []T {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// greater returns the non-empty one of a and b, the greater if both are.
func greater(a, b string) string { return max(a, b) }

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// newest returns a copy of the newer of a and b by at; a tie goes to the
// greater JSON encoding, so the choice does not depend on the order.
func newest[T any](a, b *T, at func(*T) time.Time) *T {
	switch {
	case a == nil:
		return clone(b)
	case b == nil:
		return clone(a)
	case at(b).After(at(a)) || at(b).Equal(at(a)) && encoded(b) > encoded(a):
		return clone(b)
	}
	return clone(a)
}

// greaterJSON returns a copy of the one of a and b with the greater JSON
// encoding (facts that should agree but do not still merge the same way in
// any order).
func greaterJSON[T any](a, b *T) *T {
	switch {
	case a == nil:
		return clone(b)
	case b == nil || encoded(a) >= encoded(b):
		return clone(a)
	}
	return clone(b)
}

func encoded(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // records hold only encodable values
		panic(err)
	}
	return string(b)
}

// Same reports whether two records hold the same facts.
func Same[T any](a, b *T) bool { return encoded(a) == encoded(b) }

// clone deep-copies a record through JSON, so merged records never share
// slices or maps with their inputs.
func clone[T any](v *T) *T {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}
