package view

import (
	"cmp"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
)

// Environments is the environment view of a repository: for every target
// directory and component, the change it last received and what waits in
// an open promotion PR.
type Environments struct {
	Repo string `json:"repo"`
	// Components are every component of any target, sorted.
	Components []string `json:"components"`
	Targets    []Target `json:"targets"`
}

// Target is one target directory and its components that promotions
// reached.
type Target struct {
	Path  string `json:"path"`
	Cells []Cell `json:"cells"`
}

// Cell is one component of a target.
type Cell struct {
	Component string `json:"component"`
	// Current is the promotion PR merged last.
	Current *Delivery `json:"current,omitempty"`
	// Waiting are the open promotion PRs.
	Waiting []Delivery `json:"waiting,omitempty"`
}

// Delivery is a promotion PR and the changes it carries.
type Delivery struct {
	PR  int    `json:"pr"`
	URL string `json:"url,omitempty"`
	// At is when it merged (Current).
	At time.Time `json:"at,omitzero"`
	// Changes are the original PRs it carries.
	Changes []int `json:"changes"`
	// Commit is the newest commit its sources were read at.
	Commit string `json:"commit,omitempty"`
}

// Environments returns the environment view of repo; path, when not
// empty, keeps only the target directory (with or without its trailing
// "/") or the target component path it names.
//
// Each target directory's row is kept until a record it shows changes (a
// cell of the directory, a PR of one of its cells), so after a change only
// the rows it concerns are computed again. The rows are shared by callers:
// they must not modify them.
func (m *Model) Environments(repo events.Repo, path string) Environments {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := Environments{Repo: repo.String(), Components: []string{}, Targets: []Target{}}
	ix := m.repos[repo]
	if ix == nil {
		return out
	}
	if path == "" {
		m.computeRows(ix)
		for d := range ix.targets {
			out.Targets = append(out.Targets, m.row(ix, d))
		}
		out.Components = slices.Sorted(maps.Keys(ix.components))
	} else {
		dir, component := matchPath(path)
		if _, ok := ix.targets[dir+component+"/"]; ok {
			out.Targets = append(out.Targets, m.row(ix, dir+component+"/"))
		}
		if _, ok := ix.targets[dir]; ok {
			row := m.row(ix, dir)
			if component != "" {
				i, found := slices.BinarySearchFunc(row.Cells, component, func(c Cell, name string) int { return strings.Compare(c.Component, name) })
				row.Cells = row.Cells[i:i]
				if found {
					row.Cells = row.Cells[:1:1]
				}
			}
			if len(row.Cells) > 0 {
				out.Targets = append(out.Targets, row)
			}
		}
		for _, t := range out.Targets {
			for _, c := range t.Cells {
				if !slices.Contains(out.Components, c.Component) {
					out.Components = append(out.Components, c.Component)
				}
			}
		}
		slices.Sort(out.Components)
	}
	slices.SortFunc(out.Targets, func(a, b Target) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// row returns the row of a target directory, computing it if a record it
// shows changed; the caller holds the write lock.
func (m *Model) row(ix *repoIndex, dir string) Target {
	if t, ok := ix.rows[dir]; ok && !ix.dirty[dir] {
		return t
	}
	row := m.computeRow(ix, dir)
	ix.rows[dir] = row
	delete(ix.dirty, dir)
	return row
}

// computeRows computes the rows to compute again on every core when there
// are many (the first page after a start computes them all); the caller
// holds the write lock, so the workers only read the model.
func (m *Model) computeRows(ix *repoIndex) {
	var dirs []string
	for d := range ix.targets {
		if _, ok := ix.rows[d]; !ok || ix.dirty[d] {
			dirs = append(dirs, d)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(dirs)/16)
	if workers < 2 {
		return // row computes the few there are
	}
	rows := make([]Target, len(dirs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(dirs); i += workers {
				rows[i] = m.computeRow(ix, dirs[i])
			}
		}()
	}
	wg.Wait()
	for i, d := range dirs {
		ix.rows[d] = rows[i]
		delete(ix.dirty, d)
	}
}

// computeRow computes the row of a target directory; it only reads.
func (m *Model) computeRow(ix *repoIndex, dir string) Target {
	cells := ix.targets[dir]
	row := Target{Path: dir, Cells: make([]Cell, 0, len(cells))}
	// One allocation for the row's running PRs, one for the changes of its
	// PRs (arenas: 100,000 cells make few objects).
	currents := make([]Delivery, 0, len(cells))
	arena := make([]int, 0, 2*len(cells))
	for _, c := range cells {
		row.Cells = append(row.Cells, m.cell(ix, c, &currents, &arena))
	}
	slices.SortFunc(row.Cells, func(a, b Cell) int { return strings.Compare(a.Component, b.Component) })
	return row
}

// matchPath splits a --path argument into a target directory and,
// possibly, a component (its last segment).
func matchPath(path string) (dir, component string) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", ""
	}
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return p + "/", ""
	}
	// Either "dir/" itself, or "dir/" + component: both are tried.
	return p[:i+1], p[i+1:]
}

// cell shows one cell; its running PR goes in currents (allocated once a
// row).
func (m *Model) cell(ix *repoIndex, c *state.Cell, currents *[]Delivery, arena *[]int) Cell {
	out := Cell{Component: c.Component}
	var current *state.CellPR
	var currentAt time.Time
	for i := range c.PRs {
		p := &c.PRs[i]
		pr := ix.prs[p.Number]
		switch pr.State() {
		case "merged":
			at := pr.Merged.At
			if current == nil || cmp.Or(at.Compare(currentAt), cmp.Compare(p.Number, current.Number)) > 0 {
				current, currentAt = p, at
			}
		case "open":
			out.Waiting = append(out.Waiting, m.delivery(ix, c.Repo, p, arena))
		}
	}
	if current != nil {
		d := m.delivery(ix, c.Repo, current, arena)
		d.At = currentAt
		*currents = append(*currents, d)
		out.Current = &(*currents)[len(*currents)-1]
	}
	return out
}

// delivery shows a promotion PR of a cell: its link, the changes it
// carries (Changes are sorted by PR), the newest change's commit. The
// changes are appended to arena and sliced from it.
func (m *Model) delivery(ix *repoIndex, repo events.Repo, p *state.CellPR, arena *[]int) Delivery {
	url := ""
	if pr := ix.prs[p.Number]; pr != nil && pr.URL != "" {
		url = pr.URL
	} else {
		url = m.prURL(repo, p.Number)
	}
	d := Delivery{PR: p.Number, URL: url}
	start := len(*arena)
	for _, ch := range p.Changes {
		if n := len(*arena); n == start || (*arena)[n-1] != ch.PR {
			*arena = append(*arena, ch.PR)
		}
		d.Commit = ch.Commit
	}
	d.Changes = (*arena)[start:len(*arena):len(*arena)]
	return d
}
