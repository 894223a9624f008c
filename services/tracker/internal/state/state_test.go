package state

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
)

// snapshot encodes every record of m, by key.
func snapshot(t testing.TB, m *Mem) string {
	t.Helper()
	all := map[string]any{
		"prs": m.PRs.Records(), "runs": m.Runs.Records(), "entries": m.Entries.Records(),
		"journeys": m.Journeys.Records(), "cells": m.Cells.Records(),
	}
	b, err := json.MarshalIndent(all, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func project(t testing.TB, evs []*events.Envelope) *Mem {
	t.Helper()
	m := NewMem()
	for _, env := range evs {
		f, err := FromEvent(env)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Tables().Apply(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func chains() []*events.Envelope {
	w := scenario.NewWriter()
	w.Chain(10, "nginx", true, true)
	w.Chain(20, "redis", false, false)
	// A newer nginx change joins the open prod PRs of the first one.
	merge := "m30"
	w.PullRequest("closed", 30, "Bump nginx again", "bob", "closed", merge)
	run := w.Run(scenario.Origin{Number: 30, Author: "bob", MergeCommit: merge}, true, []string{"nginx"}, scenario.LabStaging)
	w.Opened(30, run, merge, scenario.LabStaging, 31)
	w.Merged(30, run, merge, scenario.LabStaging, 31, "m31")
	run2 := w.Run(scenario.Origin{Number: 31, Author: "telefonistka", MergeCommit: "m31", Journeys: []int{30}, Levels: 1}, true,
		[]string{"nginx"}, scenario.ProdUS)
	w.Updated(31, run2, "m31", scenario.ProdUS, 13, []int{10, 30})
	w.Failed(31, run2, "m31", scenario.ProdUS, "approve", "approver missing")
	return w.Events
}

// The state does not depend on the order events are handled in, nor on
// handling some of them twice.
func TestAnyOrderGivesTheSameState(t *testing.T) {
	evs := chains()
	want := snapshot(t, project(t, evs))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		shuffled := append([]*events.Envelope(nil), evs...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		shuffled = append(shuffled, shuffled[:r.IntN(len(shuffled))]...) // redeliveries
		if got := snapshot(t, project(t, shuffled)); got != want {
			t.Fatalf("order %d gives another state:\n%s\nwant:\n%s", i, got, want)
		}
	}
}

// Handled concurrently (several workers, several replicas), the state is
// the same: the entry record joins the plan and the PR whichever comes
// second.
func TestConcurrentHandlingGivesTheSameState(t *testing.T) {
	evs := chains()
	want := snapshot(t, project(t, evs))
	for range 20 {
		m := NewMem()
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(evs); i += 4 {
					f, err := FromEvent(evs[len(evs)-1-i])
					if err != nil {
						t.Error(err)
						return
					}
					if err := m.Tables().Apply(context.Background(), f); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if got := snapshot(t, m); got != want {
			t.Fatalf("concurrent handling gives another state:\n%s\nwant:\n%s", got, want)
		}
	}
}
