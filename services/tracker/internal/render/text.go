package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// RecentText writes the recent changes of a repository for a terminal.
func RecentText(w io.Writer, repo string, recent []view.Journey) error {
	if len(recent) == 0 {
		_, err := fmt.Fprintf(w, "%s: no change promoted yet\n", repo)
		return err
	}
	fmt.Fprintf(w, "%s: recent changes\n", repo)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tAUTHOR\tSTARTED\tDONE\tSTATE\tTITLE")
	for _, j := range recent {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%d/%d\t%s\t%s\n", j.Number, j.Author, when(j.Started), j.Done, j.Total, stateText(j.State), j.Title)
	}
	return tw.Flush()
}

// JourneyText writes a change's journey for a terminal.
func JourneyText(w io.Writer, j view.Journey) error {
	fmt.Fprintf(w, "#%d %s\n", j.Number, j.Title)
	var facts []string
	if j.Author != "" {
		facts = append(facts, "by "+j.Author)
	}
	if j.MergeCommit != "" {
		facts = append(facts, "merged as "+short(j.MergeCommit))
	}
	if j.URL != "" {
		facts = append(facts, j.URL)
	}
	if len(facts) > 0 {
		fmt.Fprintln(w, strings.Join(facts, ", "))
	}
	fmt.Fprintf(w, "%s\n\n", Headline(j))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tFROM\tTO\tCOMPONENTS\tPR\tSTATE")
	for _, s := range stepRows(j) {
		pr := "-"
		if s.PR != 0 {
			pr = "#" + strconv.Itoa(s.PR)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.Stage, s.From, s.To, s.Components, pr, s.StateText)
	}
	return tw.Flush()
}

// EnvironmentsText writes the environment view for a terminal: per target
// and component, the PR merged last and the open ones.
func EnvironmentsText(w io.Writer, env view.Environments, path string) error {
	if len(env.Targets) == 0 {
		what := "no target"
		if path != "" {
			what = "no target " + path
		}
		_, err := fmt.Fprintf(w, "%s: %s has received a promotion PR\n", env.Repo, what)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tCOMPONENT\tRUNNING\tWAITING")
	for _, t := range env.Targets {
		for _, c := range t.Cells {
			running := "-"
			if d := c.Current; d != nil {
				running = "#" + strconv.Itoa(d.PR) + " (" + changesText(d) + ", merged " + when(d.At) + ")"
			}
			var waiting []string
			for i := range c.Waiting {
				waiting = append(waiting, "#"+strconv.Itoa(c.Waiting[i].PR)+" ("+changesText(&c.Waiting[i])+")")
			}
			if len(waiting) == 0 {
				waiting = []string{"-"}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Path, c.Component, running, strings.Join(waiting, "; "))
		}
	}
	return tw.Flush()
}
