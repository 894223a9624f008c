package prtext

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// MaxTitleRunes is the longest title GitHub is given; the rest moves to the
// body.
const MaxTitleRunes = 250

// CommitMessage is the promotion commit's message.
func CommitMessage(sourceLabel string) string { return "Syncing from " + sourceLabel }

// Title returns the PR title for the component names and target
// description, and the overflow (without the "...") to start the body with
// when the title was longer than MaxTitleRunes.
func Title(componentNames []string, targetDescription string) (title, overflow string) {
	full := "🚀 Promotion: " + strings.Join(componentNames, ",") + " ➡️  " + targetDescription
	if utf8.RuneCountInString(full) <= MaxTitleRunes {
		return full, ""
	}
	head := firstRunes(full, MaxTitleRunes)
	return head + "...", full[len(head):]
}

// BodyInput is what a promotion PR body is made of.
type BodyInput struct {
	ComponentNames []string
	// TitleOverflow is Title's overflow ("" when the title was not split).
	TitleOverflow string
	// Metadata is the PR's metadata; its PreviousPromotionPaths are the
	// history lines.
	Metadata metadata.Metadata
	// SkipSet are target directories hidden from the history
	// (plan.Entry.SkipSet).
	SkipSet []string
	// Notes are full "Note: …" lines (plan.DuplicateTarget.Note for the
	// duplicates whose trees differ).
	Notes []string
	// IncludesOrigins lists the origin PRs for the "Includes changes from:"
	// line; set it under supersede only.
	IncludesOrigins []int
}

const indent = "&nbsp;&nbsp;&nbsp;&nbsp;"

// Body renders the PR body, ending with the metadata block.
func Body(in BodyInput) (string, error) {
	block, err := metadata.Block(in.Metadata)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if in.TitleOverflow != "" {
		b.WriteString("..." + in.TitleOverflow + "\n")
	}
	fmt.Fprintf(&b, "Promotion path(%s):\n\n", strings.Join(in.ComponentNames, ","))
	b.WriteString(History(in.Metadata, in.SkipSet))
	for _, n := range in.Notes {
		b.WriteString(n + "\n")
	}
	if len(in.IncludesOrigins) > 0 {
		origins := slices.Clone(in.IncludesOrigins)
		slices.Sort(origins)
		origins = slices.Compact(origins)
		refs := make([]string, len(origins))
		for i, o := range origins {
			refs[i] = "#" + strconv.Itoa(o)
		}
		b.WriteString("Includes changes from: " + strings.Join(refs, ", ") + "\n")
	}
	b.WriteString("\n" + block)
	return b.String(), nil
}

// History renders the history lines of the metadata, hiding targets in
// skipSet at every level. Levels come in ascending key order. A level is
// indented one step below the deepest of its parents (HistoryParents), so
// unrelated chains a supersede PR carries are siblings; a level without a
// recorded parent (written by the original) is one step below the level
// before it, the original's layout.
func History(m metadata.Metadata, skipSet []string) string {
	skip := map[string]bool{}
	for _, s := range skipSet {
		skip[config.CanonicalDir(s)] = true
	}
	var b strings.Builder
	depth := map[string]int{}
	previous := -1
	for _, key := range m.HistoryKeys() {
		d := previous + 1
		if parents, known := m.HistoryParents[key]; known {
			d = 0
			for _, p := range parents {
				if pd, ok := depth[p]; ok {
					d = max(d, pd+1)
				}
			}
		}
		depth[key], previous = d, d
		level := m.PreviousPromotionPaths[key]
		fmt.Fprintf(&b, "%s↘️  #%s  `%s` ➡️  \n", strings.Repeat(indent, d), key, level.SourcePath)
		targets := slices.Clone(level.TargetPaths)
		slices.Sort(targets)
		for _, t := range targets {
			if skip[config.CanonicalDir(t)] {
				continue
			}
			fmt.Fprintf(&b, "%s`%s`  \n", strings.Repeat(indent, d+1), t)
		}
	}
	return b.String()
}
