package drift

import (
	"context"
	"sort"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// driftFound is what detect found: one comment section and one event pair
// per drifted sync pair, both sorted.
type driftFound struct {
	sections []comments.Section
	pairs    []events.DriftPair
}

// detect compares each pair's source and target directories on the
// default branch head base. Pairs with equal subtree SHAs (or both absent)
// cost nothing beyond the one recursive tree read of base; each differing
// blob is read once, however many pairs show it.
func (c *checker) detect(ctx context.Context, base string, pairs []plan.SyncPair) (driftFound, error) {
	api := c.api
	if len(pairs) == 0 {
		return driftFound{}, nil
	}
	dirs := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		dirs = append(dirs, p.Source(), p.Target())
	}
	tree, err := api.tree(ctx, base, dirs)
	if err != nil {
		return driftFound{}, err
	}
	var diffs []*treediff.PairDiff
	var need []string
	seen := map[string]bool{}
	for _, p := range pairs {
		d := treediff.Compare(tree, p.Source(), p.Target())
		if d == nil {
			continue
		}
		diffs = append(diffs, d)
		for _, b := range d.Blobs() {
			if !seen[b] {
				seen[b] = true
				need = append(need, b)
			}
		}
	}
	var mu sync.Mutex
	blobs := make(map[string][]byte, len(need))
	err = forEach(ctx, c.s.cfg.BlobConcurrency, need, func(ctx context.Context, sha string) error {
		data, err := api.blob(ctx, sha)
		if err != nil {
			return err
		}
		mu.Lock()
		blobs[sha] = data
		mu.Unlock()
		return nil
	})
	if err != nil {
		return driftFound{}, err
	}
	var found driftFound
	for _, d := range diffs {
		text := treediff.Render(d, func(sha string) []byte { return blobs[sha] })
		found.sections = append(found.sections, comments.Section{Source: d.Source, Target: d.Target, Lines: text.Lines, Blame: text.Blame})
		changed, onlySrc, onlyTgt := d.Counts()
		found.pairs = append(found.pairs, events.DriftPair{Source: d.Source, Target: d.Target, Changed: changed, OnlyInSource: onlySrc, OnlyInTarget: onlyTgt})
	}
	sort.Slice(found.pairs, func(i, j int) bool {
		a, b := found.pairs[i], found.pairs[j]
		return a.Source < b.Source || a.Source == b.Source && a.Target < b.Target
	})
	return found, nil
}

// postDrift posts the drift comment(s), if there is drift, and returns
// their ids.
func (c *checker) postDrift(ctx context.Context, found driftFound, base string) ([]int64, error) {
	if len(found.sections) == 0 {
		return nil, nil
	}
	bodies, err := c.s.texts.Drift(found.sections, comments.Blame{RepoURL: c.run.HTMLURL, SHA: base}, comments.MaxBytes)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	ids := make([]int64, 0, len(bodies))
	for i, body := range bodies {
		id, err := c.post(ctx, "drift-"+strconv.Itoa(i+1), body)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// recordDrift publishes drift.detected, or drift.cleared when the PR's
// previous check had found drift, and remembers this check's result.
// Event ids derive from the run, so a redelivered run publishes nothing new
// within the duplicate window.
func (c *checker) recordDrift(ctx context.Context, base string, found driftFound, ids []int64) error {
	s, run := c.s, c.run
	key := events.PRKey(run.Repo, run.PR)
	prev, _, err := s.states.Get(ctx, key)
	if err != nil {
		return err
	}
	drifted := len(found.pairs) > 0
	var payload events.Payload
	switch {
	case drifted:
		payload = &events.DriftDetected{HeadSHA: run.HeadSHA, DefaultBranch: run.DefaultBranch, ComparedSHA: base, Pairs: found.pairs, CommentIDs: ids}
	case prev != nil && prev.Drifted:
		payload = &events.DriftCleared{HeadSHA: run.HeadSHA, DefaultBranch: run.DefaultBranch, ComparedSHA: base, PreviousHeadSHA: prev.HeadSHA}
	}
	if payload != nil {
		meta := events.Follow(c.msg.Env, "drift")
		meta.ID = events.DeriveID(payload.EventType(), run.Repo.String(), strconv.Itoa(run.PR), run.ID, run.HeadSHA)
		env, err := events.New(meta, payload)
		if err != nil {
			return bus.Permanent(err)
		}
		if _, err := s.pub.Publish(ctx, env); err != nil {
			return err
		}
	}
	return s.states.Put(ctx, key, &events.DriftState{HeadSHA: run.HeadSHA, Drifted: drifted, RunID: run.ID})
}

// forEach calls fn for every item, at most n at a time, and returns the
// first error (cancelling the calls still running).
func forEach[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(n, 1))
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}
