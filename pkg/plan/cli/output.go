package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/plan/comments"
)

// planHeader is what the plan says about the repository as a whole.
type planHeader struct {
	// dryRunMode: on merge the bot comments the plan instead of opening PRs.
	dryRunMode bool
}

type jsonPlan struct {
	DryRunMode bool            `json:"dryRunMode"`
	Promotions []jsonPromotion `json:"promotions"`
}

type jsonPromotion struct {
	SourcePath        string   `json:"sourcePath"`
	TargetPaths       []string `json:"targetPaths"`
	TargetDescription string   `json:"targetDescription"`
	Components        []string `json:"components"`
	AutoMerge         bool     `json:"autoMerge"`
	// OpensPR is false when every target is skipped (block or allow lists)
	// or nothing exists to promote.
	OpensPR bool `json:"opensPr"`
	// Title is the PR's title; empty when no PR is opened.
	Title string `json:"title"`
	// Missing are source directories that exist neither in the checkout
	// nor at their targets (often a mistyped path): nothing to promote.
	Missing []string       `json:"missing,omitempty"`
	Labels  []string       `json:"labels"`
	Sync    []jsonPair     `json:"sync"`
	Skipped []jsonPair     `json:"skipped"`
	Changes *[]jsonChanges `json:"changes,omitempty"`
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

func writeJSON(w io.Writer, h planHeader, results []result, showChanges bool) error {
	out := jsonPlan{DryRunMode: h.dryRunMode, Promotions: []jsonPromotion{}}
	for _, r := range results {
		e := r.planned.Entry
		p := jsonPromotion{
			SourcePath:        trimSlash(e.SourcePath),
			TargetDescription: e.TargetDescription,
			Components:        nonNil(e.ComponentNames()),
			AutoMerge:         e.AutoMerge,
			OpensPR:           r.opensPR,
			Missing:           r.missing,
			Labels:            slices.Sorted(slices.Values(e.Labels)),
			Sync:              []jsonPair{},
			Skipped:           []jsonPair{},
		}
		if p.OpensPR {
			p.Title = r.planned.Title
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

// writeText prints each entry's dry-run block followed by the PR title
// and whether it is merged automatically (or why no PR is opened).
func writeText(w io.Writer, h planHeader, results []result, showChanges bool) error {
	var b strings.Builder
	if h.dryRunMode {
		b.WriteString("dryRunMode is on: on merge, the bot comments this plan on the PR instead of opening promotion PRs.\n\n")
	}
	if len(results) == 0 {
		b.WriteString("No promotions.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	r := comments.Builtin()
	for i, res := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		block, err := r.DryRunBlock(res.planned)
		if err != nil {
			return err
		}
		b.WriteString(block)
		for _, m := range res.missing {
			fmt.Fprintf(&b, "⚠️  %s does not exist, here or at its targets: nothing to promote (is the path right?)\n", m)
		}
		switch {
		case res.opensPR:
			fmt.Fprintf(&b, "%s\nautoMerge: %t\n", res.planned.Title, res.planned.Entry.AutoMerge)
		case res.planned.Entry.HasSync():
			b.WriteString("No PR: nothing to promote.\n")
		default:
			b.WriteString("No PR: the block and allow lists skip every target.\n")
		}
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
