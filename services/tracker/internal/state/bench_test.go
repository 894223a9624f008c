package state

import (
	"context"
	"testing"

	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
)

// BenchmarkProjectInMemory is the projection's own cost per event: reading
// the event and merging its facts into records held in memory.
func BenchmarkProjectInMemory(b *testing.B) {
	w := scenario.NewWriter()
	w.Fleet(500, 200)
	evs := w.Events
	mem := NewMem()
	tables := mem.Tables()
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		f, err := FromEvent(evs[i%len(evs)])
		if err != nil {
			b.Fatal(err)
		}
		if err := tables.Apply(ctx, f); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(len(evs)), "events/set")
}
