package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/plan/comments"
)

type jsonPlan struct {
	Promotions []jsonPromotion `json:"promotions"`
}

type jsonPromotion struct {
	SourcePath        string         `json:"sourcePath"`
	TargetPaths       []string       `json:"targetPaths"`
	TargetDescription string         `json:"targetDescription"`
	Components        []string       `json:"components"`
	AutoMerge         bool           `json:"autoMerge"`
	Title             string         `json:"title"`
	Labels            []string       `json:"labels"`
	Sync              []jsonPair     `json:"sync"`
	Skipped           []jsonPair     `json:"skipped"`
	Changes           *[]jsonChanges `json:"changes,omitempty"`
}

type jsonPair struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

type jsonChanges struct {
	Target  string   `json:"target"`
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Deleted []string `json:"deleted"`
}

func writeJSON(w io.Writer, results []result, showChanges bool) error {
	out := jsonPlan{Promotions: []jsonPromotion{}}
	for _, r := range results {
		e := r.planned.Entry
		p := jsonPromotion{
			SourcePath:        trimSlash(e.SourcePath),
			TargetDescription: e.TargetDescription,
			Components:        nonNil(e.ComponentNames()),
			AutoMerge:         e.AutoMerge,
			Title:             r.planned.Title,
			Labels:            slices.Sorted(slices.Values(e.Labels)),
			Sync:              []jsonPair{},
			Skipped:           []jsonPair{},
		}
		for _, t := range e.Targets {
			p.TargetPaths = append(p.TargetPaths, trimSlash(t))
		}
		for _, s := range e.Sync {
			p.Sync = append(p.Sync, jsonPair{Source: s.Source(), Target: s.Target()})
		}
		for _, s := range e.Skipped {
			p.Skipped = append(p.Skipped, jsonPair{Source: s.Source(), Target: s.Target()})
		}
		if showChanges {
			changes := []jsonChanges{}
			for _, c := range r.changes {
				changes = append(changes, jsonChanges{Target: c.Target, Added: nonNil(c.Added), Changed: nonNil(c.Changed), Deleted: nonNil(c.Deleted)})
			}
			p.Changes = &changes
		}
		p.TargetPaths = nonNil(p.TargetPaths)
		out.Promotions = append(out.Promotions, p)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeText prints each entry's dry-run block followed by the PR title.
func writeText(w io.Writer, results []result, showChanges bool) error {
	if len(results) == 0 {
		_, err := fmt.Fprintln(w, "No promotions.")
		return err
	}
	r := comments.Builtin()
	var b strings.Builder
	for i, res := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		block, err := r.DryRunBlock(res.planned)
		if err != nil {
			return err
		}
		b.WriteString(block)
		b.WriteString(res.planned.Title + "\n")
		if showChanges {
			for _, c := range res.changes {
				if c.Empty() {
					fmt.Fprintf(&b, "  %s: no changes\n", c.Target)
					continue
				}
				fmt.Fprintf(&b, "  %s:\n", c.Target)
				for _, f := range c.Added {
					fmt.Fprintf(&b, "    added   %s\n", f)
				}
				for _, f := range c.Changed {
					fmt.Fprintf(&b, "    changed %s\n", f)
				}
				for _, f := range c.Deleted {
					fmt.Fprintf(&b, "    deleted %s\n", f)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
