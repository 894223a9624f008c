package promoter

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// PromotionLabel marks promotion PRs, the original's included.
const PromotionLabel = "promotion"

// findOriginalPR returns an open promotion PR the original Telefonistka
// left for the group (SPEC §1.4: its state keeps working after the
// switch): labelled promotion, with the original's metadata (no promotion
// key or policy), whose newest history level promoted from the group's
// source pattern to exactly the group's targets, every promoted path under
// them. Its branch has the original's name, so findGroupPR misses it.
func findOriginalPR(open []Pull, g events.PromotionGroup) (*Pull, *metadata.Metadata) {
	source, err := regexp.Compile("^(?:" + strings.TrimSuffix(g.SourcePath, "/") + ")/$")
	if err != nil {
		return nil, nil
	}
	targets := canonicalSet(g.Targets)
	for i := range open {
		p := &open[i]
		if !slices.Contains(p.Labels, PromotionLabel) {
			continue
		}
		md, err := metadata.Extract(p.Body)
		if err != nil || md.PromotionKey != "" || md.Policy != "" {
			continue
		}
		keys := md.HistoryKeys()
		if len(keys) == 0 || len(md.PromotedPaths) == 0 {
			continue
		}
		level := md.PreviousPromotionPaths[keys[len(keys)-1]]
		if !slices.Equal(canonicalSet(level.TargetPaths), targets) || !allMatch(source, sourceDirs(level.SourcePath)) {
			continue
		}
		if slices.ContainsFunc(md.PromotedPaths, func(path string) bool { return targetOf(path, g.Targets) == "" }) {
			continue
		}
		return p, md
	}
	return nil, nil
}

func canonicalSet(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = config.CanonicalDir(d)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sourceDirs splits a source label ("a/" or "a/, b/") into directories.
func sourceDirs(label string) []string {
	var out []string
	for _, d := range strings.Split(label, ", ") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, config.CanonicalDir(d))
		}
	}
	return out
}

func allMatch(re *regexp.Regexp, dirs []string) bool {
	return len(dirs) > 0 && !slices.ContainsFunc(dirs, func(d string) bool { return !re.MatchString(d) })
}

// targetOf returns the target directory of targets that path (a target
// component path) lies under, or "".
func targetOf(path string, targets []string) string {
	for _, t := range targets {
		t = config.CanonicalDir(t)
		if strings.HasPrefix(path, t) && len(path) > len(t) {
			return t
		}
	}
	return ""
}

// fromOriginal turns the original's metadata into what a PR of this
// version carries: components from its promoted paths (the component under
// a group target, from the level's source directory), its origin PR (the
// newest history level) and its author. A component is taken from a
// source directory that holds it at the merge commit; with a single
// source directory that exists, also when the component is gone there (the
// original PR promoted its deletion).
func (s *Service) fromOriginal(ctx context.Context, j *job, md *metadata.Metadata) (*metadata.Metadata, error) {
	src, err := s.trees.get(ctx, j.repo, j.ev.MergeCommit)
	if err != nil {
		return nil, at("find", err)
	}
	keys := md.HistoryKeys()
	newest := keys[len(keys)-1]
	dirs := sourceDirs(md.PreviousPromotionPaths[newest].SourcePath)
	single := len(dirs) == 1 && len(src.ix.Under(strings.TrimSuffix(dirs[0], "/"))) > 0
	out := *md
	out.Components = nil
	for _, p := range md.PromotedPaths {
		name := strings.TrimSuffix(strings.TrimPrefix(p, targetOf(p, j.ev.Group.Targets)), "/")
		for _, d := range dirs {
			if single || len(src.ix.Under(d+name)) > 0 {
				out.Components = append(out.Components, metadata.ComponentRef{SourcePath: d, Name: name})
			}
		}
	}
	if n, err := strconv.Atoi(newest); err == nil && len(out.OriginPrs) == 0 {
		out.OriginPrs = []int{n}
	}
	if len(out.OriginalPrAuthors) == 0 && out.OriginalPrAuthor != "" {
		out.OriginalPrAuthors = []string{out.OriginalPrAuthor}
	}
	return &out, nil
}

// closeOriginal closes the original's PR once its components continue in
// PR number (or, number 0, once its targets already match their sources).
func (s *Service) closeOriginal(ctx context.Context, j *job, orig *Pull, number int) error {
	body, err := s.render.InSync()
	if number != 0 {
		body, err = s.render.SupersededOriginal(number)
	}
	if err != nil {
		return at("close", err)
	}
	j.log.Info("closing a promotion PR the original Telefonistka left open", "old_pr", orig.Number, "pr_number", number)
	if err := s.comment(ctx, j.repo, orig.Number, body); err != nil {
		return at("close", err)
	}
	return at("close", s.gh.ClosePull(ctx, j.repo, orig.Number))
}
