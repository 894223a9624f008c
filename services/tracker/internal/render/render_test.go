package render

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/tracker/internal/golden"
	"github.com/telefonistka/telefonistka/services/tracker/internal/sample"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

func sampleModel(t testing.TB) *view.Model {
	t.Helper()
	m, err := sample.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func journey(t testing.TB, m *view.Model, n int) view.Journey {
	t.Helper()
	j, ok := m.Journey(scenario.Repo, n)
	if !ok {
		t.Fatalf("no journey %d", n)
	}
	return j
}

func TestComment(t *testing.T) {
	m := sampleModel(t)
	c, err := NewComments("")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{10, 20, 30} {
		body, err := c.Comment(journey(t, m, n), "https://telefonistka.example.com/tracker/acme/gitops")
		if err != nil {
			t.Fatal(err)
		}
		if !githubapi.IsTrackerComment(body) {
			t.Errorf("comment %d does not start with the markers:\n%s", n, body)
		}
		golden.Check(t, "comment-"+strings.TrimSpace(itoa(n))+".md", body)
	}
}

// A journey too large for one comment lists what fits and says how many
// steps are on the page.
func TestCommentFitsGitHubsLimit(t *testing.T) {
	j := journey(t, sampleModel(t), 10)
	step := j.Stages[1].Steps[0]
	step.Targets = []string{strings.Repeat("clusters/prod/", 40)}
	for range 2000 {
		j.Stages[1].Steps = append(j.Stages[1].Steps, step)
	}
	c, _ := NewComments("")
	body, err := c.Comment(j, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > githubapi.MaxCommentLength || !strings.Contains(body, "more steps are on the tracker page") {
		t.Errorf("comment of %d bytes, tail %q", len(body), body[len(body)-200:])
	}
}

// An override in TEMPLATES_PATH replaces the table; the markers stay.
func TestCommentOverride(t *testing.T) {
	dir := t.TempDir()
	tmpl := `{{ define "trackerComment" }}#{{ .Number }} is {{ .Journey.State }}{{ end }}`
	if err := os.WriteFile(filepath.Join(dir, CommentFile), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewComments(dir)
	if err != nil {
		t.Fatal(err)
	}
	body, err := c.Comment(journey(t, sampleModel(t), 10), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := githubapi.Marker + "\n" + Marker + "\n#10 is waiting"; body != want {
		t.Errorf("comment = %q, want %q", body, want)
	}
}

func TestPages(t *testing.T) {
	m := sampleModel(t)
	var b strings.Builder
	if err := Index(&b, "/tracker", []string{"acme/gitops"}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "index.html", b.String())
	b.Reset()
	if err := Repo(&b, "/tracker", "acme/gitops", m.Recent(scenario.Repo, 20), m.Environments(scenario.Repo, "")); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "repo.html", b.String())
	b.Reset()
	if err := Change(&b, "/tracker", journey(t, m, 30)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "change-30.html", b.String())
}

// Every value on the page is escaped, the pre-rendered matrix cells too,
// and only http(s) links are kept.
func TestPageEscapes(t *testing.T) {
	env := view.Environments{Repo: "acme/gitops", Components: []string{`<script>c</script>`},
		Targets: []view.Target{{Path: `<img src=x>`, Cells: []view.Cell{{Component: `<script>c</script>`,
			Current: &view.Delivery{PR: 1, URL: `javascript:alert(1)`, Changes: []int{2}, Commit: `"><b>`},
			Waiting: []view.Delivery{{PR: 3, URL: `https://x/"onmouseover="a`, Changes: []int{4}}}}}}}}
	var b strings.Builder
	if err := Repo(&b, "/tracker", "acme/gitops", nil, env); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>c", "<img", "javascript:", `"onmouseover`, "<b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
}

func TestText(t *testing.T) {
	m := sampleModel(t)
	var b strings.Builder
	if err := RecentText(&b, "acme/gitops", m.Recent(scenario.Repo, 20)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "recent.txt", b.String())
	b.Reset()
	if err := JourneyText(&b, journey(t, m, 10)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "journey-10.txt", b.String())
	b.Reset()
	if err := EnvironmentsText(&b, m.Environments(scenario.Repo, "clusters/prod/us-1"), "clusters/prod/us-1"); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "environments-prod-us.txt", b.String())
	b.Reset()
	if err := EnvironmentsText(&b, m.Environments(scenario.Repo, "nowhere"), "nowhere"); err != nil {
		t.Fatal(err)
	}
	if want := "acme/gitops: no target nowhere has received a promotion PR\n"; b.String() != want {
		t.Errorf("unknown path: %q", b.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
