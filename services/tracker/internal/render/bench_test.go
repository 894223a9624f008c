package render

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// bigEnvironments is a repository of targets x components, every cell
// running a merged PR and every third one with an open PR waiting.
func bigEnvironments(targets, components int) view.Environments {
	env := view.Environments{Repo: "acme/gitops"}
	for c := range components {
		env.Components = append(env.Components, fmt.Sprintf("component-%03d", c))
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for t := range targets {
		row := view.Target{Path: fmt.Sprintf("clusters/env-%03d/", t)}
		for c := range components {
			cell := view.Cell{Component: env.Components[c], Current: &view.Delivery{PR: 1000 + t, URL: fmt.Sprintf("https://github.com/acme/gitops/pull/%d", 1000+t),
				At: at, Changes: []int{c + 1}, Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8"}}
			if (t+c)%3 == 0 {
				cell.Waiting = []view.Delivery{{PR: 5000 + c, URL: fmt.Sprintf("https://github.com/acme/gitops/pull/%d", 5000+c), Changes: []int{c + 2}}}
			}
			row.Cells = append(row.Cells, cell)
		}
		env.Targets = append(env.Targets, row)
	}
	return env
}

// BenchmarkMatrix renders the repository page with a matrix of 500 targets
// x 200 components (goal: under 100 ms).
func BenchmarkMatrix(b *testing.B) {
	env := bigEnvironments(500, 200)
	b.ResetTimer()
	for b.Loop() {
		if err := Repo(io.Discard, "/tracker", "acme/gitops", nil, env); err != nil {
			b.Fatal(err)
		}
	}
}
