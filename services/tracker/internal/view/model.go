// Package view turns the tracker's records into what people read: a
// change's journey, the environment matrix, the recent changes. A Model
// holds the records in memory (fed by a watch of the KV bucket); the views
// are pure functions of it.
package view

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
)

// Model is the projection's records in memory, for reading.
type Model struct {
	mu         sync.RWMutex
	runs       map[string]*state.Run
	entries    map[string]*state.Entry
	runEntries map[string]map[string]bool // run id -> entry ids
	prEntries  map[string]map[string]bool // PR key -> entry ids
	journeys   map[string]*state.Journey
	repos      map[events.Repo]*repoIndex
	byKey      map[string]func() // how to forget the record at a key
	// touched is called with the journeys a change concerns (Watch).
	touched func([]JourneyRef)
	// rev is the newest KV revision the model has seen.
	rev uint64
}

// repoIndex lists a repository's journeys and targets.
type repoIndex struct {
	journeys map[int]bool
	// targets maps each target directory to its cells, by key.
	targets map[string]map[string]*state.Cell
	// components counts the cells of each component.
	components map[string]int
	// url is the repository's web address, learnt from a PR's link.
	url string
	prs map[int]*state.PR
	// rows are the environment view's rows, by target directory, kept
	// until dirty; prDirs are the directories whose cells name a PR.
	rows   map[string]Target
	dirty  map[string]bool
	prDirs map[int]map[string]bool
}

// prChanged marks the rows showing PR number for computing again.
func (ix *repoIndex) prChanged(number int) {
	for d := range ix.prDirs[number] {
		ix.dirty[d] = true
	}
}

// pr is the PR record of repo's PR number, or nil.
func (m *Model) pr(repo events.Repo, number int) *state.PR {
	if ix := m.repos[repo]; ix != nil {
		return ix.prs[number]
	}
	return nil
}

// JourneyRef names a journey.
type JourneyRef struct {
	Repo   events.Repo
	Number int
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{
		runs: map[string]*state.Run{}, entries: map[string]*state.Entry{},
		runEntries: map[string]map[string]bool{}, prEntries: map[string]map[string]bool{}, journeys: map[string]*state.Journey{},
		repos: map[events.Repo]*repoIndex{}, byKey: map[string]func(){},
	}
}

// OnTouched sets a function called, outside the model's lock, with the
// journeys each change of the model concerns.
func (m *Model) OnTouched(f func([]JourneyRef)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touched = f
}

// Put stores the record encoded in value at a KV key.
func (m *Model) Put(key string, value []byte) error {
	kind, _, _ := strings.Cut(key, ".")
	var refs []JourneyRef
	var err error
	m.mu.Lock()
	switch kind {
	case "pr":
		refs, err = put(m, key, value, m.putPR)
	case "run":
		refs, err = put(m, key, value, m.putRun)
	case "entry":
		refs, err = put(m, key, value, m.putEntry)
	case "journey":
		refs, err = put(m, key, value, m.putJourney)
	case "cell":
		refs, err = put(m, key, value, m.putCell)
	}
	touched := m.touched
	m.mu.Unlock()
	if touched != nil && len(refs) > 0 {
		touched(refs)
	}
	return err
}

func put[T any](m *Model, key string, value []byte, store func(key string, r *T) []JourneyRef) ([]JourneyRef, error) {
	r := new(T)
	if err := json.Unmarshal(value, r); err != nil {
		return nil, fmt.Errorf("decoding tracker record %s: %w", key, err)
	}
	return store(key, r), nil
}

// Seen records the KV revision of the last change put or deleted.
func (m *Model) Seen(rev uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rev = max(m.rev, rev)
}

// Revision is the newest KV revision the model has seen.
func (m *Model) Revision() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.rev
}

// Delete forgets the record at a KV key.
func (m *Model) Delete(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if forget := m.byKey[key]; forget != nil {
		forget()
		delete(m.byKey, key)
	}
}

func (m *Model) repo(r events.Repo) *repoIndex {
	ix := m.repos[r]
	if ix == nil {
		ix = &repoIndex{journeys: map[int]bool{}, targets: map[string]map[string]*state.Cell{}, components: map[string]int{},
			prs: map[int]*state.PR{}, rows: map[string]Target{}, dirty: map[string]bool{}, prDirs: map[int]map[string]bool{}}
		m.repos[r] = ix
	}
	return ix
}

func (m *Model) putPR(key string, r *state.PR) []JourneyRef {
	ix := m.repo(r.Repo)
	ix.prs[r.Number] = r
	ix.prChanged(r.Number)
	m.byKey[key] = func() {
		delete(ix.prs, r.Number)
		ix.prChanged(r.Number)
	}
	if base, _, ok := strings.Cut(r.URL, "/pull/"); ok && base != "" && base != ix.url {
		ix.url = base
		for d := range ix.targets { // links built from the address change
			ix.dirty[d] = true
		}
	}
	// A PR's state shows in the journeys of the entries it serves; the
	// origin PR's in its own journey.
	refs := []JourneyRef{{Repo: r.Repo, Number: r.Number}}
	for id := range m.prEntries[key] {
		if e := m.entries[id]; e != nil {
			refs = append(refs, journeyRefs(e.Repo, e.Journeys)...)
		}
	}
	return refs
}

func (m *Model) putRun(key string, r *state.Run) []JourneyRef {
	m.runs[r.ID] = r
	m.byKey[key] = func() { delete(m.runs, r.ID) }
	return journeyRefs(r.Repo, r.Journeys)
}

func (m *Model) putEntry(key string, r *state.Entry) []JourneyRef {
	m.entries[r.ID] = r
	if m.runEntries[r.RunID] == nil {
		m.runEntries[r.RunID] = map[string]bool{}
	}
	m.runEntries[r.RunID][r.ID] = true
	for _, n := range r.PRs {
		k := state.PRKey(r.Repo, n)
		if m.prEntries[k] == nil {
			m.prEntries[k] = map[string]bool{}
		}
		m.prEntries[k][r.ID] = true
	}
	m.byKey[key] = func() {
		delete(m.entries, r.ID)
		delete(m.runEntries[r.RunID], r.ID)
		for _, n := range r.PRs {
			delete(m.prEntries[state.PRKey(r.Repo, n)], r.ID)
		}
	}
	return journeyRefs(r.Repo, r.Journeys)
}

func (m *Model) putJourney(key string, r *state.Journey) []JourneyRef {
	m.journeys[key] = r
	m.repo(r.Repo).journeys[r.Number] = true
	m.byKey[key] = func() {
		delete(m.journeys, key)
		delete(m.repo(r.Repo).journeys, r.Number)
	}
	return []JourneyRef{{Repo: r.Repo, Number: r.Number}}
}

func (m *Model) putCell(key string, r *state.Cell) []JourneyRef {
	ix := m.repo(r.Repo)
	ix.dirty[r.Dir] = true
	for _, p := range r.PRs {
		if ix.prDirs[p.Number] == nil {
			ix.prDirs[p.Number] = map[string]bool{}
		}
		ix.prDirs[p.Number][r.Dir] = true
	}
	if ix.targets[r.Dir] == nil {
		ix.targets[r.Dir] = map[string]*state.Cell{}
	}
	if _, ok := ix.targets[r.Dir][key]; !ok {
		ix.components[r.Component]++
	}
	ix.targets[r.Dir][key] = r
	m.byKey[key] = func() {
		ix.dirty[r.Dir] = true
		delete(ix.targets[r.Dir], key)
		if len(ix.targets[r.Dir]) == 0 {
			delete(ix.targets, r.Dir)
			delete(ix.rows, r.Dir)
			delete(ix.dirty, r.Dir)
		}
		if ix.components[r.Component]--; ix.components[r.Component] <= 0 {
			delete(ix.components, r.Component)
		}
	}
	return nil
}

func journeyRefs(repo events.Repo, numbers []int) []JourneyRef {
	out := make([]JourneyRef, len(numbers))
	for i, n := range numbers {
		out[i] = JourneyRef{Repo: repo, Number: n}
	}
	return out
}

// Load fills the model from a projection in memory (tests, benchmarks).
func (m *Model) Load(mem *state.Mem) error {
	for _, tab := range []map[string]any{
		anyMap(mem.PRs.Records()), anyMap(mem.Runs.Records()), anyMap(mem.Entries.Records()),
		anyMap(mem.Journeys.Records()), anyMap(mem.Cells.Records()),
	} {
		for k, v := range tab {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := m.Put(k, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func anyMap[T any](in map[string]*T) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// Repos lists the repositories the model knows, sorted.
func (m *Model) Repos() []events.Repo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]events.Repo, 0, len(m.repos))
	for r := range m.repos {
		out = append(out, r)
	}
	sortRepos(out)
	return out
}
