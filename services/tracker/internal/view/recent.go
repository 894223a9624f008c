package view

import (
	"cmp"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
)

// Recent returns the newest journeys of repo (by when they started, newest
// first), at most limit.
func (m *Model) Recent(repo events.Repo, limit int) []Journey {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ix := m.repos[repo]
	if ix == nil {
		return []Journey{}
	}
	js := make([]*state.Journey, 0, len(ix.journeys))
	for n := range ix.journeys {
		if j := m.journeys[state.JourneyKey(repo, n)]; j != nil {
			js = append(js, j)
		}
	}
	slices.SortFunc(js, func(a, b *state.Journey) int {
		return cmp.Or(b.Started.Compare(a.Started), cmp.Compare(b.Number, a.Number))
	})
	if limit > 0 && len(js) > limit {
		js = js[:limit]
	}
	out := make([]Journey, len(js))
	for i, j := range js {
		out[i] = m.journey(j)
	}
	return out
}

func sortRepos(rs []events.Repo) {
	slices.SortFunc(rs, func(a, b events.Repo) int {
		return cmp.Or(strings.Compare(a.Owner, b.Owner), strings.Compare(a.Name, b.Name))
	})
}
