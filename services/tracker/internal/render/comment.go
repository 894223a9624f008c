// Package render turns the tracker's views into what people read: the
// comment on a change's original PR (Markdown, from a template users may
// override), the web page (html/template) and the status command's text.
package render

import (
	"embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/comments"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

//go:embed templates/*.gotmpl
var builtins embed.FS

// CommentFile is the comment's template file in TEMPLATES_PATH; it defines
// the template "trackerComment", which gets CommentData.
const CommentFile = "tracker-comment.gotmpl"

// Marker identifies the tracker's comment on a PR, after the bot marker:
// the tracker edits, replaces and minimises only comments carrying it, and
// other services never minimise them.
const Marker = githubapi.TrackerMarker

// CommentData is what the comment template gets.
type CommentData struct {
	Repo     string
	Number   int
	Title    string
	Headline string
	Rows     []CommentRow
	// Omitted counts steps left out to keep under GitHub's size limit.
	Omitted int
	// PageURL is the repository's tracker page (empty when the tracker's
	// public address is not configured).
	PageURL string
	Journey view.Journey
}

// CommentRow is one step, its cells escaped for a Markdown table.
type CommentRow struct {
	Stage      int
	From       string
	To         string
	Components string
	PR         string
	State      string
}

// Comments renders the tracker comment.
type Comments struct {
	set *comments.TemplateSet
}

// NewComments loads the built-in comment template and its override from
// dir (TEMPLATES_PATH; "" for none).
func NewComments(dir string) (*Comments, error) {
	set, err := comments.LoadTemplates(builtins, "templates/*.gotmpl", map[string]string{CommentFile: "trackerComment"}, dir)
	if err != nil {
		return nil, err
	}
	return &Comments{set: set}, nil
}

// maxRows bounds the steps a comment lists.
const maxRows = 200

// Comment renders the comment on j's original PR: the bot marker, the
// tracker marker, then the template. Steps are left out (counted in
// Omitted) until it fits GitHub's limit.
func (c *Comments) Comment(j view.Journey, pageURL string) (string, error) {
	rows := commentRows(j)
	limit := min(len(rows), maxRows)
	for {
		d := CommentData{Repo: j.Repo, Number: j.Number, Title: j.Title, Headline: Headline(j), Rows: rows[:limit],
			Omitted: len(rows) - limit, PageURL: pageURL, Journey: j}
		var b strings.Builder
		if err := c.set.Execute(&b, "trackerComment", d); err != nil {
			return "", err
		}
		body := githubapi.WithMarker(Marker + "\n" + b.String())
		if len(body) <= githubapi.MaxCommentLength || limit == 0 {
			return body, nil
		}
		limit /= 2
	}
}

// Headline says where a journey stands in a few words.
func Headline(j view.Journey) string {
	steps := fmt.Sprintf("%d of %d steps done", j.Done, j.Total)
	switch j.State {
	case view.JourneyDone:
		return "done, every step merged or in sync"
	case view.JourneyFailed:
		return "a step failed (" + steps + ")"
	case view.JourneyStopped:
		return "stopped: a promotion PR was closed without merging (" + steps + ")"
	case view.JourneyWaiting:
		return "waiting for promotion PRs to merge (" + steps + ")"
	}
	return "in progress (" + steps + ")"
}

func commentRows(j view.Journey) []CommentRow {
	var rows []CommentRow
	for _, st := range j.Stages {
		for _, s := range st.Steps {
			r := CommentRow{Stage: st.Number, From: code(s.Source), To: targetsText(s), Components: cell(strings.Join(s.Components, ", ")),
				PR: "–", State: cell(StepText(s))}
			if s.PR != 0 {
				r.PR = "#" + strconv.Itoa(s.PR)
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func targetsText(s view.Step) string {
	parts := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		parts[i] = code(t)
	}
	text := strings.Join(parts, ", ")
	if s.Description != "" && s.Description != strings.Join(s.Targets, " ") {
		text = cell(s.Description) + " (" + text + ")"
	}
	return text
}

// StepText is a step's state in words, led by an emoji (comments,
// terminals).
func StepText(s view.Step) string { return stepText(s, true) }

// stepWords is a step's state in words alone (the page: a browser may
// have no emoji font).
func stepWords(s view.Step) string { return stepText(s, false) }

func stepText(s view.Step, emoji bool) string {
	var mark, t string
	switch s.State {
	case view.StepMerged:
		mark, t = "✅ ", "merged"
	case view.StepInSync:
		mark, t = "✅ ", "already in sync"
	case view.StepOpen:
		mark, t = "⏳ ", "open, waiting for review"
		if s.AutoMerge {
			t = "open, merging automatically"
		}
	case view.StepFailed:
		mark, t = "❌ ", "failed"
		if s.Detail != "" {
			t += ": " + oneLine(s.Detail, 200)
		}
	case view.StepClosed:
		mark, t = "🚫 ", "closed without merging"
	case view.StepRejected:
		mark, t = "🚫 ", "left alone: its PR was closed without merging"
	default:
		mark, t = "🕓 ", "planned"
	}
	if s.ArgoDiff != "" {
		t += " (Argo CD: " + s.ArgoDiff + ")"
	}
	if emoji {
		return mark + t
	}
	return t
}

// code quotes a path for Markdown.
func code(s string) string { return "`" + strings.ReplaceAll(cell(s), "`", "'") + "`" }

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
