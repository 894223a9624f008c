package render

import (
	"bufio"
	"embed"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

//go:embed templates/*.html.tmpl
var pageFiles embed.FS

var pages = template.Must(template.New("pages").ParseFS(pageFiles, "templates/*.html.tmpl"))

// Page is what every page gets: Base is the path the tracker's pages are
// served under ("/tracker"), Repo the repository shown, if any.
type Page struct {
	Base  string
	Title string
	Repo  string
}

// IndexPage lists the repositories.
type IndexPage struct {
	Page
	Repos []string
}

// RepoPage shows a repository's recent changes; the environment matrix
// follows it (WriteMatrix).
type RepoPage struct {
	Page
	Changes []ChangeRow
	// Targets counts the matrix's rows.
	Targets int
}

// ChangeRow is one recent change.
type ChangeRow struct {
	Number    int
	Title     string
	Author    string
	Started   string
	Done      int
	Total     int
	State     string
	StateText string
	Steps     []StepRow
}

// StepRow is one step of a change.
type StepRow struct {
	Stage      int
	From       string
	To         string
	Components string
	PR         int
	URL        string
	State      string
	StateText  string
}

// ChangePage shows one change's journey.
type ChangePage struct {
	Page
	Change   view.Journey
	Headline string
	Steps    []StepRow
}

// Index renders the repository list.
func Index(w io.Writer, base string, repos []string) error {
	return render(w, "index", IndexPage{Page: Page{Base: base, Title: "Repositories"}, Repos: repos})
}

// Repo renders a repository's page.
func Repo(w io.Writer, base string, repo string, recent []view.Journey, env view.Environments) error {
	p := RepoPage{Page: Page{Base: base, Title: repo, Repo: repo}, Targets: len(env.Targets)}
	for _, j := range recent {
		p.Changes = append(p.Changes, ChangeRow{Number: j.Number, Title: j.Title, Author: j.Author, Started: when(j.Started),
			Done: j.Done, Total: j.Total, State: j.State, StateText: stateText(j.State), Steps: stepRows(j)})
	}
	return render(w, "repo", p, func(bw *bufio.Writer) { WriteMatrix(bw, env) })
}

// Change renders one change's journey.
func Change(w io.Writer, base string, j view.Journey) error {
	p := ChangePage{Page: Page{Base: base, Title: "#" + strconv.Itoa(j.Number) + " " + j.Title, Repo: j.Repo}, Change: j,
		Headline: Headline(j), Steps: stepRows(j)}
	p.Change.URL = safeURL(j.URL)
	return render(w, "change", p)
}

// NotFound renders a page saying what was not found.
func NotFound(w io.Writer, base, repo, message string) error {
	return render(w, "notfound", struct {
		Page
		Message string
	}{Page{Base: base, Title: "Not found", Repo: repo}, message})
}

// render writes the page head, the content template, what after writes
// (the matrix), and the page foot.
func render(w io.Writer, content string, data any, after ...func(*bufio.Writer)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, name := range []string{"head", content} {
		if err := pages.ExecuteTemplate(bw, name, data); err != nil {
			return err
		}
	}
	for _, f := range after {
		f(bw)
	}
	if err := pages.ExecuteTemplate(bw, "foot", data); err != nil {
		return err
	}
	return bw.Flush()
}

func stepRows(j view.Journey) []StepRow {
	var out []StepRow
	for _, st := range j.Stages {
		for _, s := range st.Steps {
			to := strings.Join(s.Targets, ", ")
			if s.Description != "" && s.Description != strings.Join(s.Targets, " ") {
				to = s.Description + " (" + to + ")"
			}
			out = append(out, StepRow{Stage: st.Number, From: s.Source, To: to, Components: strings.Join(s.Components, ", "),
				PR: s.PR, URL: safeURL(s.URL), State: s.State, StateText: stepWords(s)})
		}
	}
	return out
}

func stateText(s string) string {
	switch s {
	case view.JourneyInProgress:
		return "in progress"
	case view.JourneyWaiting:
		return "waiting for merges"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// WriteMatrix writes the environment view as a table: rows are target
// directories, columns components, each cell the PR merged last and the
// open ones. It is written here rather than by a template action per
// cell: the matrix has up to 100,000 cells, and the template's contextual
// escaping of each was most of the page's time. Every value goes through
// esc. Write errors stay in w (bufio), for its Flush to report.
func WriteMatrix(w *bufio.Writer, env view.Environments) {
	if len(env.Targets) == 0 {
		return
	}
	col := make(map[string]int, len(env.Components))
	for i, c := range env.Components {
		col[c] = i
	}
	mw := &matrixWriter{w: w, times: map[time.Time]string{}}
	mw.str(`<div class="scroll"><table id="matrix">` + "\n" + `<thead><tr><th>target</th>`)
	for _, c := range env.Components {
		mw.str("<th>")
		mw.esc(c)
		mw.str("</th>")
	}
	mw.str("</tr></thead>\n<tbody>\n")
	cells := make([]*view.Cell, len(env.Components))
	for _, t := range env.Targets {
		clear(cells)
		for i := range t.Cells {
			cells[col[t.Cells[i].Component]] = &t.Cells[i]
		}
		mw.str("<tr><th>")
		mw.esc(t.Path)
		mw.str("</th>")
		for _, c := range cells {
			mw.str("<td>")
			if c != nil {
				mw.cell(c)
			}
			mw.str("</td>")
		}
		mw.str("</tr>\n")
	}
	mw.str("</tbody>\n</table></div>\n")
}

type matrixWriter struct {
	w     *bufio.Writer
	times map[time.Time]string
	num   [20]byte
}

func (w *matrixWriter) str(s string) { _, _ = w.w.WriteString(s) }

func (w *matrixWriter) int(n int) { _, _ = w.w.Write(strconv.AppendInt(w.num[:0], int64(n), 10)) }

// esc writes s with the characters HTML gives meaning to escaped.
func (w *matrixWriter) esc(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		case '&':
			r = "&amp;"
		case '"':
			r = "&#34;"
		case '\'':
			r = "&#39;"
		default:
			continue
		}
		w.str(s[last:i])
		w.str(r)
		last = i + 1
	}
	w.str(s[last:])
}

// cell writes the PR merged last and the open ones, each a link.
func (w *matrixWriter) cell(c *view.Cell) {
	if d := c.Current; d != nil {
		at, ok := w.times[d.At]
		if !ok {
			at = ", merged " + when(d.At)
			w.times[d.At] = at
		}
		w.link(`<a class="cur" href="`, "#", d, "running ", at)
	}
	for i := range c.Waiting {
		w.link(`<a class="wait" href="`, "waiting #", &c.Waiting[i], "waiting: ", "")
	}
}

func (w *matrixWriter) link(open, prefix string, d *view.Delivery, before, after string) {
	w.str(open)
	w.esc(safeURL(d.URL))
	w.str(`" title="`)
	w.str(before)
	switch len(d.Changes) {
	case 0:
	case 1:
		w.str("change ")
	default:
		w.str("changes ")
	}
	for i, n := range d.Changes {
		if i == 0 {
			w.str("#")
		} else {
			w.str(", #")
		}
		w.int(n)
	}
	if d.Commit != "" {
		w.str(" at ")
		w.esc(short(d.Commit))
	}
	w.esc(after)
	w.str(`">`)
	w.str(prefix)
	w.int(d.PR)
	w.str("</a>")
}

func changesText(d *view.Delivery) string {
	parts := make([]string, len(d.Changes))
	for i, n := range d.Changes {
		parts[i] = "#" + strconv.Itoa(n)
	}
	s := "change " + strings.Join(parts, ", ")
	if len(parts) > 1 {
		s = "changes " + strings.Join(parts, ", ")
	}
	if d.Commit != "" {
		s += " at " + short(d.Commit)
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// safeURL keeps http(s) links only.
func safeURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return "#"
}
