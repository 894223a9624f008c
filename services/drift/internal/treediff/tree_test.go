package treediff

import (
	"reflect"
	"strings"
	"testing"
)

func blob(path, sha string) Entry { return Entry{Path: path, Mode: "100644", Type: TypeBlob, SHA: sha} }
func dir(path, sha string) Entry  { return Entry{Path: path, Mode: "040000", Type: TypeTree, SHA: sha} }

func TestCompare(t *testing.T) {
	tree := NewTree([]Entry{
		dir("env", "t0"),
		dir("env/staging", "t1"), dir("env/staging/app", "same"), blob("env/staging/app/a.yaml", "b1"),
		dir("env/prod", "t2"), dir("env/prod/app", "same"), blob("env/prod/app/a.yaml", "b1"),
		dir("env/staging/web", "w1"), blob("env/staging/web/values.yaml", "v1"), blob("env/staging/web/only-src.yaml", "s1"),
		dir("env/staging/web/deep", "d1"), blob("env/staging/web/deep/x.yaml", "x1"),
		dir("env/prod/web", "w2"), blob("env/prod/web/values.yaml", "v2"), blob("env/prod/web/only-tgt.yaml", "t9"),
		dir("env/prod/web/deep", "d2"), blob("env/prod/web/deep/x.yaml", "x1"),
		// A sibling whose name extends the directory name must not leak in.
		dir("env/prod/web2", "w3"), blob("env/prod/web2/values.yaml", "v9"),
		dir("env/staging/mode", "m1"), blob("env/staging/mode/run.sh", "r1"),
		dir("env/prod/mode", "m2"), {Path: "env/prod/mode/run.sh", Mode: "100755", Type: TypeBlob, SHA: "r1"},
		dir("env/staging/new", "n1"), blob("env/staging/new/a.yaml", "a1"),
	})
	tests := []struct {
		name, source, target string
		want                 []FileDiff
	}{
		{name: "equal subtree SHAs", source: "env/staging/app", target: "env/prod/app"},
		{name: "both absent", source: "env/staging/nope", target: "env/prod/nope"},
		{name: "only the mode differs", source: "env/staging/mode", target: "env/prod/mode"},
		{name: "changed, missing on each side, nested equal file skipped", source: "env/staging/web", target: "env/prod/web/",
			want: []FileDiff{
				{Path: "only-src.yaml", Kind: OnlyInSource, Source: blob("only-src.yaml", "s1")},
				{Path: "only-tgt.yaml", Kind: OnlyInTarget, Target: blob("only-tgt.yaml", "t9")},
				{Path: "values.yaml", Kind: Changed, Source: blob("values.yaml", "v1"), Target: blob("values.yaml", "v2")},
			}},
		{name: "target absent", source: "env/staging/new", target: "env/prod/new",
			want: []FileDiff{{Path: "a.yaml", Kind: OnlyInSource, Source: blob("a.yaml", "a1")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(tree, tc.source, tc.target)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("Compare = %+v, want no drift", got)
				}
				return
			}
			if got == nil {
				t.Fatal("Compare found no drift")
			}
			if !reflect.DeepEqual(got.Files, tc.want) {
				t.Fatalf("files:\n got %+v\nwant %+v", got.Files, tc.want)
			}
			if got.Source != strings.TrimSuffix(tc.source, "/") || got.Target != strings.TrimSuffix(tc.target, "/") {
				t.Fatalf("dirs = %q, %q", got.Source, got.Target)
			}
		})
	}
}

func TestBlobsAreDistinctAndOnlyForChangedBlobs(t *testing.T) {
	d := &PairDiff{Source: "s", Target: "t", Files: []FileDiff{
		{Path: "a", Kind: Changed, Source: blob("a", "x"), Target: blob("a", "y")},
		{Path: "b", Kind: Changed, Source: blob("b", "y"), Target: blob("b", "z")},
		{Path: "c", Kind: OnlyInSource, Source: blob("c", "w")},
		{Path: "d", Kind: Changed, Source: Entry{Path: "d", Type: TypeCommit, SHA: "c1"}, Target: Entry{Path: "d", Type: TypeCommit, SHA: "c2"}},
	}}
	if got, want := d.Blobs(), []string{"x", "y", "z"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Blobs = %v, want %v", got, want)
	}
	if c, s, tg := d.Counts(); c != 3 || s != 1 || tg != 0 {
		t.Fatalf("Counts = %d, %d, %d", c, s, tg)
	}
}

func TestRender(t *testing.T) {
	contents := map[string]string{
		"v1":   "replicas: 1\nimage: nginx:1.25\n",
		"v2":   "replicas: 3\nimage: nginx:1.25\n",
		"bin1": "\x00\x01PNG", "bin2": "\x00\x02PNG",
		"lat1": "caf\xe9\n", "utf": "café\n",
	}
	d := &PairDiff{Source: "env/staging/web", Target: "env/prod/web", Files: []FileDiff{
		{Path: "deep/values.yaml", Kind: Changed, Source: blob("deep/values.yaml", "v1"), Target: blob("deep/values.yaml", "v2")},
		{Path: "logo.png", Kind: Changed, Source: blob("logo.png", "bin1"), Target: blob("logo.png", "bin2")},
		{Path: "notes.txt", Kind: Changed, Source: blob("notes.txt", "lat1"), Target: blob("notes.txt", "utf")},
		{Path: "only-src.yaml", Kind: OnlyInSource, Source: blob("only-src.yaml", "s")},
		{Path: "only-tgt.yaml", Kind: OnlyInTarget, Target: blob("only-tgt.yaml", "t")},
		{Path: "sub", Kind: Changed, Source: Entry{Type: TypeCommit, SHA: "aaa"}, Target: Entry{Type: TypeCommit, SHA: "bbb"}},
	}}
	var asked []string
	got := Render(d, func(sha string) []byte {
		asked = append(asked, sha)
		return []byte(contents[sha])
	})
	want := []string{
		"--- env/staging/web/deep/values.yaml",
		"+++ env/prod/web/deep/values.yaml",
		"@@ -1,2 +1,2 @@",
		"-replicas: 1",
		"+replicas: 3",
		" image: nginx:1.25",
		"Binary files env/staging/web/logo.png and env/prod/web/logo.png differ",
		"Binary files env/staging/web/notes.txt and env/prod/web/notes.txt differ",
		"--- env/staging/web/only-src.yaml (missing from target dir env/prod/web)",
		"+++ env/prod/web/only-tgt.yaml (missing from source dir env/staging/web)",
		"--- env/staging/web/sub",
		"+++ env/prod/web/sub",
		"@@ -1 +1 @@",
		"-Subproject commit aaa",
		"+Subproject commit bbb",
	}
	if strings.Join(got.Lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got.Lines, "\n"), strings.Join(want, "\n"))
	}
	wantBlame := []string{"env/staging/web/deep/values.yaml", "env/staging/web/logo.png", "env/staging/web/notes.txt", "env/staging/web/sub"}
	if !reflect.DeepEqual(got.Blame, wantBlame) {
		t.Fatalf("blame = %v, want %v", got.Blame, wantBlame)
	}
	if want := d.Blobs(); !reflect.DeepEqual(asked, want) {
		t.Fatalf("contents asked for %v, want exactly %v", asked, want)
	}
}
