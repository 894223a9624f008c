package state

import (
	"context"
	"sync"
)

// Table holds records of one kind. Merge merges fact into the record at
// key atomically (compare-and-set) and returns the record as stored.
type Table[T any] interface {
	Merge(ctx context.Context, key string, fact *T) (*T, error)
}

// Tables are the tables of the projection.
type Tables struct {
	PRs      Table[PR]
	Runs     Table[Run]
	Entries  Table[Entry]
	Journeys Table[Journey]
	Cells    Table[Cell]
}

// Apply merges an event's facts into the tables. An entry's cells are
// written by whichever of its facts completes the entry (its plan and its
// PR arrive in different events, in any order): the entry record is the
// point where the two meet, so at least one of the two merges sees both.
func (t Tables) Apply(ctx context.Context, f Facts) error {
	for _, r := range f.PRs {
		if _, err := t.PRs.Merge(ctx, PRKey(r.Repo, r.Number), r); err != nil {
			return err
		}
	}
	for _, r := range f.Runs {
		if _, err := t.Runs.Merge(ctx, RunKey(r.ID), r); err != nil {
			return err
		}
	}
	for _, r := range f.Entries {
		stored, err := t.Entries.Merge(ctx, EntryKey(r.ID), r)
		if err != nil {
			return err
		}
		for _, c := range CellFacts(stored) {
			if _, err := t.Cells.Merge(ctx, CellKey(c.Repo, c.Dir, c.Component), c); err != nil {
				return err
			}
		}
	}
	for _, r := range f.Journeys {
		if _, err := t.Journeys.Merge(ctx, JourneyKey(r.Repo, r.Number), r); err != nil {
			return err
		}
	}
	return nil
}

// Merger is a record type that merges.
type Merger[T any] interface {
	*T
	Merge(*T) *T
}

// MemTable is a Table in memory (tests, benchmarks, dry runs).
type MemTable[T any, P Merger[T]] struct {
	mu   sync.Mutex
	recs map[string]*T
}

// NewMemTable returns an empty table.
func NewMemTable[T any, P Merger[T]]() *MemTable[T, P] {
	return &MemTable[T, P]{recs: map[string]*T{}}
}

// Merge implements Table.
func (m *MemTable[T, P]) Merge(_ context.Context, key string, fact *T) (*T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := P(m.recs[key]).Merge(fact)
	m.recs[key] = next
	return next, nil
}

// Records returns a copy of every record by key.
func (m *MemTable[T, P]) Records() map[string]*T {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*T, len(m.recs))
	for k, v := range m.recs {
		out[k] = clone(v)
	}
	return out
}

// Mem is a projection held in memory.
type Mem struct {
	PRs      *MemTable[PR, *PR]
	Runs     *MemTable[Run, *Run]
	Entries  *MemTable[Entry, *Entry]
	Journeys *MemTable[Journey, *Journey]
	Cells    *MemTable[Cell, *Cell]
}

// NewMem returns an empty projection in memory.
func NewMem() *Mem {
	return &Mem{
		PRs: NewMemTable[PR](), Runs: NewMemTable[Run](), Entries: NewMemTable[Entry](),
		Journeys: NewMemTable[Journey](), Cells: NewMemTable[Cell](),
	}
}

// Tables returns the tables of m.
func (m *Mem) Tables() Tables {
	return Tables{PRs: m.PRs, Runs: m.Runs, Entries: m.Entries, Journeys: m.Journeys, Cells: m.Cells}
}
