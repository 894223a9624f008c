package comments

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update): %v", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func blob(path, sha string) treediff.Entry {
	return treediff.Entry{Path: path, Mode: "100644", Type: treediff.TypeBlob, SHA: sha}
}

func dir(path, sha string) treediff.Entry {
	return treediff.Entry{Path: path, Mode: "040000", Type: treediff.TypeTree, SHA: sha}
}

// sections compares each pair in tree and renders the drifted ones, as the
// service does.
func sections(t *testing.T, entries []treediff.Entry, contents map[string]string, pairs ...[2]string) []Section {
	t.Helper()
	tree := treediff.NewTree(entries)
	var out []Section
	for _, p := range pairs {
		d := treediff.Compare(tree, p[0], p[1])
		if d == nil {
			continue
		}
		text := treediff.Render(d, func(sha string) []byte {
			c, ok := contents[sha]
			if !ok {
				t.Fatalf("blob %s read but not needed", sha)
			}
			return []byte(c)
		})
		out = append(out, Section{Source: d.Source, Target: d.Target, Lines: text.Lines, Blame: text.Blame})
	}
	return out
}

var blame = Blame{RepoURL: "https://github.com/acme/gitops", SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e"}

func TestDriftCommentGolden(t *testing.T) {
	contents := map[string]string{
		"v1": "replicas: 1\nimage:\n  repository: nginx\n  tag: \"1.25\"\nresources:\n  limits:\n    cpu: 500m\n    memory: 256Mi\n",
		"v2": "replicas: 3\nimage:\n  repository: nginx\n  tag: \"1.25\"\nresources:\n  limits:\n    cpu: 500m\n    memory: 512Mi\n",
		"c1": "apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n",
		"c2": "apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: info\n",
	}
	tests := []struct {
		name    string
		entries []treediff.Entry
		pairs   [][2]string
	}{
		{name: "changed-file", pairs: [][2]string{{"env/staging/nginx", "env/prod/nginx"}}, entries: []treediff.Entry{
			dir("env/staging/nginx", "s"), blob("env/staging/nginx/values.yaml", "v1"),
			dir("env/prod/nginx", "p"), blob("env/prod/nginx/values.yaml", "v2"),
		}},
		{name: "only-in-source", pairs: [][2]string{{"env/staging/nginx", "env/prod/nginx"}}, entries: []treediff.Entry{
			dir("env/staging/nginx", "s"), blob("env/staging/nginx/values.yaml", "same"), blob("env/staging/nginx/hpa.yaml", "h"),
			dir("env/prod/nginx", "p"), blob("env/prod/nginx/values.yaml", "same"),
		}},
		{name: "only-in-target", pairs: [][2]string{{"env/staging/nginx", "env/prod/nginx"}}, entries: []treediff.Entry{
			dir("env/staging/nginx", "s"), blob("env/staging/nginx/values.yaml", "same"),
			dir("env/prod/nginx", "p"), blob("env/prod/nginx/values.yaml", "same"), blob("env/prod/nginx/hotfix.yaml", "h"),
		}},
		{name: "nested-directories", entries: []treediff.Entry{
			dir("clusters/staging/eu/nginx", "s1"), dir("clusters/staging/eu/nginx/overlays", "s2"),
			dir("clusters/staging/eu/nginx/overlays/config", "s3"),
			blob("clusters/staging/eu/nginx/overlays/config/cm.yaml", "c1"),
			blob("clusters/staging/eu/nginx/overlays/values.yaml", "v1"),
			blob("clusters/staging/eu/nginx/overlays/new/extra.yaml", "e"),
			dir("clusters/prod/eu/nginx", "p1"), dir("clusters/prod/eu/nginx/overlays", "p2"),
			dir("clusters/prod/eu/nginx/overlays/config", "p3"),
			blob("clusters/prod/eu/nginx/overlays/config/cm.yaml", "c2"),
			blob("clusters/prod/eu/nginx/overlays/values.yaml", "v2"),
			dir("clusters/prod/us/nginx", "p1"), dir("clusters/prod/us/nginx/overlays", "p2"),
			dir("clusters/prod/us/nginx/overlays/config", "p3"),
			blob("clusters/prod/us/nginx/overlays/config/cm.yaml", "c2"),
			blob("clusters/prod/us/nginx/overlays/values.yaml", "v2"),
			dir("clusters/prod/ap/nginx", "s1"),
		}, pairs: [][2]string{
			{"clusters/staging/eu/nginx", "clusters/prod/us/nginx"},
			{"clusters/staging/eu/nginx", "clusters/prod/eu/nginx"},
			{"clusters/staging/eu/nginx", "clusters/prod/ap/nginx"}, // no drift
		}},
	}
	r, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Drift(sections(t, tc.entries, contents, tc.pairs...), blame, MaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d comments, want 1", len(got))
			}
			golden(t, "drift-"+tc.name+".md", got[0])
		})
	}
}

// bigDiff is a section whose diff alone is about n bytes.
func bigSections(n int, pairs ...[2]string) []Section {
	var out []Section
	for _, p := range pairs {
		s := Section{Source: p[0], Target: p[1]}
		s.Lines = []string{"--- " + p[0] + "/big.yaml", "+++ " + p[1] + "/big.yaml", "@@ -1,9999 +1,9999 @@"}
		for i := 0; len(strings.Join(s.Lines, "\n")) < n; i++ {
			s.Lines = append(s.Lines, fmt.Sprintf("-key%05d: old value for line %d", i, i), fmt.Sprintf("+key%05d: new value for line %d", i, i))
		}
		s.Blame = []string{p[0] + "/big.yaml"}
		out = append(out, s)
	}
	return out
}

func TestDriftCommentSplitsPerPair(t *testing.T) {
	r, _ := New("")
	secs := bigSections(34000, [2]string{"env/staging/b", "env/prod/b"}, [2]string{"env/staging/a", "env/prod/a"})
	got, err := r.Drift(secs, blame, MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d comments, want one per pair", len(got))
	}
	for i, want := range []string{"`env/staging/a` ↔️  `env/prod/a`", "`env/staging/b` ↔️  `env/prod/b`"} {
		if len(got[i]) > MaxBytes {
			t.Errorf("comment %d has %d bytes", i, len(got[i]))
		}
		if !strings.Contains(got[i], want) || strings.Count(got[i], "<details>") != 1 {
			t.Errorf("comment %d does not hold exactly the pair %s", i, want)
		}
		if strings.Contains(got[i], "diff truncated") {
			t.Errorf("comment %d was cut although it fits alone", i)
		}
	}
}

func TestDriftCommentCutAtLimit(t *testing.T) {
	r, _ := New("")
	secs := bigSections(200000, [2]string{"env/staging/nginx", "env/prod/nginx"})
	got, err := r.Drift(secs, blame, MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d comments, want 1", len(got))
	}
	c := got[0]
	if len(c) > MaxBytes {
		t.Fatalf("comment has %d bytes, limit %d", len(c), MaxBytes)
	}
	kept := strings.Count(c, "\n-key") + strings.Count(c, "\n+key") + 3
	note := fmt.Sprintf("… diff truncated (%d more lines)\n```\n### Blame Links:", len(secs[0].Lines)-kept)
	if !strings.Contains(c, note) {
		t.Fatalf("comment lacks %q", note)
	}
	// One more line would not have fitted.
	bigger, _ := r.Render("driftMsg", map[string]string{secs[0].Title(): secs[0].text(blame, "```", kept+1, 1)})
	if len(bigger) <= MaxBytes {
		t.Fatalf("cut at %d lines although %d fit", kept, kept+1)
	}
	// The golden keeps the cut small to read: the same cut with a small limit.
	small, err := r.Drift(bigSections(2000, [2]string{"env/staging/nginx", "env/prod/nginx"}), blame, 2600)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "drift-cut-at-limit.md", small[0])
}

func TestDriftCommentTooSmallLimit(t *testing.T) {
	r, _ := New("")
	secs := bigSections(2000, [2]string{"env/staging/nginx", "env/prod/nginx"})
	if _, err := r.Drift(secs, blame, 100); err == nil {
		t.Fatal("a limit below the bare comment gave no error")
	}
}

func TestLongerFenceWhenDiffHoldsBackticks(t *testing.T) {
	s := Section{Source: "a/x", Target: "b/x", Lines: []string{"--- a/x/README.md", "+++ b/x/README.md", "@@ -1 +1 @@", "-```yaml", "+````yaml"}}
	text := s.text(blame, s.fence(), len(s.Lines), 0)
	if !strings.HasPrefix(text, "`````diff\n") || !strings.HasSuffix(text, "\n`````") {
		t.Fatalf("fence not longer than the content's backticks:\n%s", text)
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	tmpl := `{{define "driftMsg"}}{{range $t, $d := .}}{{$t}}={{len $d}};{{end}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "drift-pr-comment.gotmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Overridden) != 1 {
		t.Fatalf("Overridden = %v", r.Overridden)
	}
	got, err := r.Drift([]Section{{Source: "s/x", Target: "t/x", Lines: []string{"--- s/x/f (missing from target dir t/x)"}}}, blame, MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	want := Marker + "`s/x` ↔️  `t/x`=" + fmt.Sprint(len("```diff\n--- s/x/f (missing from target dir t/x)\n```")) + ";"
	if got[0] != want {
		t.Fatalf("override rendered %q, want %q", got[0], want)
	}
	// The toggle template still comes from the built-ins.
	if _, err := r.ToggleReply(ToggleData{SHA: "abc", Toggles: []Toggle{{Key: "k", Context: "c", State: "success"}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "toggle-commit-status-comment.gotmpl"), []byte(`{{define "other"}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err == nil {
		t.Fatal("an override not defining its template was accepted")
	}
}

func TestToggleReplyGolden(t *testing.T) {
	r, _ := New("")
	got, err := r.ToggleReply(ToggleData{SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e", Toggles: []Toggle{
		{Key: "approve-deploy", Context: "deploy/approved", State: "success"},
		{Key: "block", Context: "security/review", State: "failure", Previous: "success"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "toggle-reply.md", got)
}

func TestBlameLinksAreCutWhenEvenNoDiffFits(t *testing.T) {
	r, _ := New("")
	s := Section{Source: "env/staging/app", Target: "env/prod/app", Lines: []string{"--- a", "+++ b"}}
	for i := 0; i < 200; i++ {
		s.Blame = append(s.Blame, fmt.Sprintf("env/staging/app/conf/file-%03d.yaml", i))
	}
	got, err := r.Drift([]Section{s}, blame, 3000)
	if err != nil {
		t.Fatal(err)
	}
	c := got[0]
	kept := strings.Count(c, "](https://github.com/acme/gitops/blame/")
	if len(c) > 3000 || kept == 0 || kept == 200 {
		t.Fatalf("%d bytes with %d of 200 blame links", len(c), kept)
	}
	for _, want := range []string{"… diff truncated (2 more lines)\n```", fmt.Sprintf("\n… and %d more files", 200-kept)} {
		if !strings.Contains(c, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
}

func TestCommandDeniedGolden(t *testing.T) {
	r, _ := New("")
	got, err := r.CommandDenied(DeniedData{Login: "mallory", Command: "/retrigger", Repo: "acme/gitops", Permission: "read"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "command-denied.md", got)
}

// 500 drifted targets make a few comments, each filled up to the limit,
// not one comment per target; every section appears exactly once.
func TestManySectionsArePackedIntoFewComments(t *testing.T) {
	r, _ := New("")
	var sections []Section
	for i := 0; i < 500; i++ {
		sections = append(sections, Section{Source: "env/staging/app", Target: fmt.Sprintf("env/prod-%03d/app", i),
			Lines: []string{"--- a", "+++ b", "-replicas: 1", "+replicas: 3"}, Blame: []string{"env/staging/app/values.yaml"}})
	}
	got, err := r.Drift(sections, blame, MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range got {
		if len(c) > MaxBytes {
			t.Fatalf("a comment of %d bytes", len(c))
		}
		total += len(c)
	}
	if min := total/MaxBytes + 1; len(got) > min+1 {
		t.Fatalf("%d comments for %d bytes; at most %d expected", len(got), total, min+1)
	}
	all := strings.Join(got, "\n")
	for _, s := range sections {
		if n := strings.Count(all, s.Title()); n != 1 {
			t.Fatalf("%s appears %d times", s.Title(), n)
		}
	}
	t.Logf("500 sections: %d comments, %d bytes", len(got), total)
}
