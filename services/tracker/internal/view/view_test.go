package view_test

import (
	"encoding/json"
	"testing"

	"github.com/telefonistka/telefonistka/services/tracker/internal/golden"
	"github.com/telefonistka/telefonistka/services/tracker/internal/sample"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

func sampleModel(t *testing.T) *view.Model {
	t.Helper()
	m, err := sample.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestViews(t *testing.T) {
	m := sampleModel(t)
	for _, n := range []int{10, 20, 30} {
		j, ok := m.Journey(scenario.Repo, n)
		if !ok {
			t.Fatalf("no journey %d", n)
		}
		golden.Check(t, "journey-"+itoa(n)+".json", asJSON(t, j))
	}
	if _, ok := m.Journey(scenario.Repo, 11); ok {
		t.Error("a promotion PR has a journey of its own")
	}
	golden.Check(t, "environments.json", asJSON(t, m.Environments(scenario.Repo, "")))
	golden.Check(t, "environments-prod-us.json", asJSON(t, m.Environments(scenario.Repo, "clusters/prod/us-1")))
	golden.Check(t, "environments-prod-us-nginx.json", asJSON(t, m.Environments(scenario.Repo, "clusters/prod/us-1/nginx")))
	recent := m.Recent(scenario.Repo, 2)
	if len(recent) != 2 || recent[0].Number != 30 || recent[1].Number != 20 {
		t.Errorf("recent: %+v", recent)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The whole environment view is kept until the repository's records
// change.
func TestEnvironmentsFollowChanges(t *testing.T) {
	m := sampleModel(t)
	before := m.Environments(scenario.Repo, "")
	cell := &state.Cell{Repo: scenario.Repo, Dir: "clusters/dev/", Component: "nginx", PRs: []state.CellPR{{Number: 99}}}
	pr := &state.PR{Repo: scenario.Repo, Number: 99, Open: &state.Switch{On: true}}
	for key, v := range map[string]any{state.CellKey(scenario.Repo, cell.Dir, cell.Component): cell, state.PRKey(scenario.Repo, 99): pr} {
		b, _ := json.Marshal(v)
		if err := m.Put(key, b); err != nil {
			t.Fatal(err)
		}
	}
	after := m.Environments(scenario.Repo, "")
	if len(after.Targets) != len(before.Targets)+1 || after.Targets[0].Path != "clusters/dev/" ||
		len(after.Targets[0].Cells[0].Waiting) != 1 {
		t.Fatalf("after a new cell: %+v", after.Targets[0])
	}
	m.Delete(state.CellKey(scenario.Repo, cell.Dir, cell.Component))
	if again := m.Environments(scenario.Repo, ""); len(again.Targets) != len(before.Targets) {
		t.Fatalf("after deleting it: %d targets", len(again.Targets))
	}
}
