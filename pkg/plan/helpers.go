package plan

import (
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// AllSyncPairs returns every sync pair of the plan (fan-in losers excluded),
// deduplicated and sorted by target then source. Drift detection compares
// exactly these pairs ("plan the PR as show-plan does").
func (p *Plan) AllSyncPairs() []SyncPair {
	var out []SyncPair
	for _, e := range p.Entries {
		out = append(out, e.Sync...)
	}
	slices.SortFunc(out, func(a, b SyncPair) int {
		if c := compareJoined(a.TargetDir, a.Component, b.TargetDir, b.Component); c != 0 {
			return c
		}
		return compareJoined(a.SourceDir, a.Component, b.SourceDir, b.Component)
	})
	return slices.CompactFunc(out, func(a, b SyncPair) bool { return a.Source() == b.Source() && a.Target() == b.Target() })
}

// ChangedComponents returns the sorted, distinct component paths of the
// changed files, each file taking the first flow it is under and ignoring
// label conditions (how the Argo CD diff finds a PR's components).
func ChangedComponents(cfg *config.RepoConfig, files []string) []string {
	if cfg == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		if !config.SafeRepoPath(f) || !strings.Contains(f, "/") {
			continue
		}
		for i := range cfg.PromotionPaths {
			fl := &cfg.PromotionPaths[i]
			if !fl.Under(f) {
				continue
			}
			if m, ok := fl.Component(f); ok && !seen[m.ComponentPath()] {
				seen[m.ComponentPath()] = true
				out = append(out, m.ComponentPath())
			}
			break
		}
	}
	slices.Sort(out)
	return out
}
