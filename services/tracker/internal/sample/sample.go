// Package sample builds the tracker's model of the sample chains
// (scenario.Sample) for tests and benchmarks.
package sample

import (
	"context"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// Model is the model of the sample chains.
func Model() (*view.Model, error) {
	w := scenario.NewWriter()
	scenario.Sample(w)
	return FromEvents(w.Events)
}

// FromEvents projects events in memory and loads the result in a model.
func FromEvents(evs []*events.Envelope) (*view.Model, error) {
	mem := state.NewMem()
	for _, env := range evs {
		f, err := state.FromEvent(env)
		if err != nil {
			return nil, err
		}
		if err := mem.Tables().Apply(context.Background(), f); err != nil {
			return nil, err
		}
	}
	m := view.NewModel()
	if err := m.Load(mem); err != nil {
		return nil, err
	}
	return m, nil
}
