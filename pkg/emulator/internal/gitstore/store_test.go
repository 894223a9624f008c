package gitstore

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

func memStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewMemory("main")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func build(t *testing.T, s *Store, files map[string]string) Hash {
	t.Helper()
	in := map[string][]byte{}
	for p, c := range files {
		in[p] = []byte(c)
	}
	h, err := s.BuildTree(in)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func contents(t *testing.T, s *Store, root Hash) map[string]string {
	t.Helper()
	files, err := s.Files(root, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for p, e := range files {
		data, err := s.Blob(e.Hash)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(data)
	}
	return out
}

func blob(t *testing.T, s *Store, content string) Hash {
	t.Helper()
	h, err := s.WriteBlob([]byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestApplyEdits(t *testing.T) {
	s := memStore(t)
	base := build(t, s, map[string]string{
		"env/prod/app/a.yaml":     "a-prod",
		"env/prod/app/old.yaml":   "old",
		"env/prod/app/sub/x.yaml": "x-prod",
		"env/dev/app/a.yaml":      "a-dev",
		"env/dev/app/sub/y.yaml":  "y-dev",
		"README.md":               "readme",
	})
	devApp, ok, err := s.Lookup(base, "env/dev/app")
	if err != nil || !ok {
		t.Fatalf("lookup dev app: %v %v", ok, err)
	}
	tests := []struct {
		name  string
		edits []Edit
		want  map[string]string
	}{
		{
			name:  "tree entry over a directory merges into it",
			edits: []Edit{{Path: "env/prod/app", Mode: filemode.Dir, Hash: devApp.Hash}},
			want: map[string]string{
				"env/prod/app/a.yaml": "a-dev", "env/prod/app/old.yaml": "old",
				"env/prod/app/sub/x.yaml": "x-prod", "env/prod/app/sub/y.yaml": "y-dev",
				"env/dev/app/a.yaml": "a-dev", "env/dev/app/sub/y.yaml": "y-dev", "README.md": "readme",
			},
		},
		{
			name: "explicit deletes make the directory an exact copy",
			edits: []Edit{
				{Path: "env/prod/app", Mode: filemode.Dir, Hash: devApp.Hash},
				{Path: "env/prod/app/old.yaml", Delete: true},
				{Path: "env/prod/app/sub/x.yaml", Delete: true},
			},
			want: map[string]string{
				"env/prod/app/a.yaml": "a-dev", "env/prod/app/sub/y.yaml": "y-dev",
				"env/dev/app/a.yaml": "a-dev", "env/dev/app/sub/y.yaml": "y-dev", "README.md": "readme",
			},
		},
		{
			name:  "tree entry at a new path is placed as is",
			edits: []Edit{{Path: "env/stage/app", Mode: filemode.Dir, Hash: devApp.Hash}},
			want: map[string]string{
				"env/prod/app/a.yaml": "a-prod", "env/prod/app/old.yaml": "old", "env/prod/app/sub/x.yaml": "x-prod",
				"env/dev/app/a.yaml": "a-dev", "env/dev/app/sub/y.yaml": "y-dev", "README.md": "readme",
				"env/stage/app/a.yaml": "a-dev", "env/stage/app/sub/y.yaml": "y-dev",
			},
		},
		{
			name:  "deleting a directory removes it and empty parents disappear",
			edits: []Edit{{Path: "env/dev/app", Delete: true}, {Path: "env/prod", Delete: true}},
			want:  map[string]string{"README.md": "readme"},
		},
		{
			name:  "deleting a missing path changes nothing",
			edits: []Edit{{Path: "nope/missing.txt", Delete: true}, {Path: "README.md/x", Delete: true}},
			want: map[string]string{
				"env/prod/app/a.yaml": "a-prod", "env/prod/app/old.yaml": "old", "env/prod/app/sub/x.yaml": "x-prod",
				"env/dev/app/a.yaml": "a-dev", "env/dev/app/sub/y.yaml": "y-dev", "README.md": "readme",
			},
		},
		{
			name:  "nested blob path replaces a file standing in the way",
			edits: []Edit{{Path: "README.md/inner.txt", Mode: filemode.Regular, Hash: blob(t, s, "inner")}},
			want: map[string]string{
				"env/prod/app/a.yaml": "a-prod", "env/prod/app/old.yaml": "old", "env/prod/app/sub/x.yaml": "x-prod",
				"env/dev/app/a.yaml": "a-dev", "env/dev/app/sub/y.yaml": "y-dev", "README.md/inner.txt": "inner",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := s.ApplyEdits(base, tt.edits)
			if err != nil {
				t.Fatal(err)
			}
			if got := contents(t, s, h); !maps.Equal(got, tt.want) {
				t.Errorf("files = %v\nwant    %v", got, tt.want)
			}
		})
	}
	if _, err := s.ApplyEdits(base, []Edit{{Path: "a/../b", Mode: filemode.Regular, Hash: devApp.Hash}}); err == nil {
		t.Error("path with .. accepted")
	}
}

func TestFlattenAndDiff(t *testing.T) {
	s := memStore(t)
	a := build(t, s, map[string]string{"d/x": "1", "d/y": "2", "z": "3"})
	b := build(t, s, map[string]string{"d/x": "1", "d/y": "22", "w/q": "4"})
	flat, err := s.Flatten(a)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range flat {
		paths = append(paths, f.Type()+":"+f.Path)
	}
	if want := []string{"tree:d", "blob:d/x", "blob:d/y", "blob:z"}; !slices.Equal(paths, want) {
		t.Errorf("flatten = %v, want %v", paths, want)
	}
	if flat[1].Size != 1 || flat[0].Size != -1 {
		t.Errorf("sizes = %d %d", flat[0].Size, flat[1].Size)
	}
	changes, err := s.DiffTrees(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		kind := "M"
		if c.Added() {
			kind = "A"
		} else if c.Removed() {
			kind = "D"
		}
		got = append(got, kind+" "+c.Path)
	}
	if want := []string{"M d/y", "A w/q", "D z"}; !slices.Equal(got, want) {
		t.Errorf("diff = %v, want %v", got, want)
	}
}

func TestMergeTrees(t *testing.T) {
	s := memStore(t)
	base := build(t, s, map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n", "h": "h\n"})
	tests := []struct {
		name         string
		ours, theirs map[string]string
		want         map[string]string
		conflicts    []string
	}{
		{
			name:   "disjoint files",
			ours:   map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "G\n", "h": "h\n"},
			theirs: map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n", "h": "h\n", "new": "n\n"},
			want:   map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "G\n", "h": "h\n", "new": "n\n"},
		},
		{
			name:   "same file, different lines",
			ours:   map[string]string{"f": "ONE\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n", "h": "h\n"},
			theirs: map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\nEIGHT\n", "g": "g\n", "h": "h\n"},
			want:   map[string]string{"f": "ONE\n2\n3\n4\n5\n6\n7\nEIGHT\n", "g": "g\n", "h": "h\n"},
		},
		{
			name:      "same line changed differently",
			ours:      map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "ours\n", "h": "h\n"},
			theirs:    map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "theirs\n", "h": "h\n"},
			conflicts: []string{"g"},
		},
		{
			name:      "modify and delete",
			ours:      map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n", "h": "H\n"},
			theirs:    map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n"},
			conflicts: []string{"h"},
		},
		{
			name:   "both delete",
			ours:   map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n"},
			theirs: map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n"},
			want:   map[string]string{"f": "1\n2\n3\n4\n5\n6\n7\n8\n", "g": "g\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, conflicts, err := s.MergeTrees(base, build(t, s, tt.ours), build(t, s, tt.theirs))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(conflicts, tt.conflicts) {
				t.Fatalf("conflicts = %v, want %v", conflicts, tt.conflicts)
			}
			if tt.conflicts == nil && !maps.Equal(contents(t, s, h), tt.want) {
				t.Errorf("merged = %v, want %v", contents(t, s, h), tt.want)
			}
		})
	}
}

var commitSeq int

func commit(t *testing.T, s *Store, tree Hash, parents ...Hash) Hash {
	t.Helper()
	commitSeq++
	sig := Signature{"t", "t@example.com", time.Unix(1700000000, 0)}
	msg := fmt.Sprintf("commit %d", commitSeq) // distinct messages keep look-alike commits apart
	h, err := s.WriteCommit(Commit{Tree: tree, Parents: parents, Author: sig, Committer: sig, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGraph(t *testing.T) {
	s := memStore(t)
	tree := build(t, s, map[string]string{"a": "a"})
	// root - c1 - c2 - c3 (main)
	//          \- f1 - f2 (feature), m = merge(c3, f2)
	root := commit(t, s, tree)
	c1 := commit(t, s, tree, root)
	c2 := commit(t, s, tree, c1)
	c3 := commit(t, s, tree, c2)
	f1 := commit(t, s, tree, c1)
	f2 := commit(t, s, tree, f1)
	m := commit(t, s, tree, c3, f2)

	if mb, ok, err := s.MergeBase(c3, f2); err != nil || !ok || mb != c1 {
		t.Errorf("merge base of c3, f2 = %v %v %v, want c1", mb, ok, err)
	}
	if mb, _, _ := s.MergeBase(m, f2); mb != f2 {
		t.Errorf("merge base of m, f2 = %v, want f2", mb)
	}
	if ok, _ := s.IsAncestor(c1, m); !ok {
		t.Error("c1 should be an ancestor of m")
	}
	if ok, _ := s.IsAncestor(f2, c3); ok {
		t.Error("f2 is not an ancestor of c3")
	}
	got, err := s.Exclusive(f2, []Hash{c3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Hash{f2, f1}; !slices.Equal(got, want) {
		t.Errorf("exclusive(f2, c3) = %v, want %v", got, want)
	}
	got, _ = s.Exclusive(m, []Hash{c3}, 0)
	if want := []Hash{m, f2, f1}; !slices.Equal(got, want) {
		t.Errorf("exclusive(m, c3) = %v, want %v", got, want)
	}
	if got, _ := s.Exclusive(c3, []Hash{m}, 0); len(got) != 0 {
		t.Errorf("exclusive(c3, m) = %v, want none", got)
	}
	if g, _ := s.Generation(m); g != 5 {
		t.Errorf("generation(m) = %d, want 5", g)
	}
}

func TestOpenDirPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDir(dir, "trunk")
	if err != nil {
		t.Fatal(err)
	}
	tree := build(t, s, map[string]string{"a/b": "c"})
	c := commit(t, s, tree)
	if err := s.SetRef("refs/heads/trunk", c); err != nil {
		t.Fatal(err)
	}
	again, err := OpenDir(dir, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if again.DefaultBranch() != "trunk" {
		t.Errorf("default branch = %q", again.DefaultBranch())
	}
	h, ok := again.Ref("refs/heads/trunk")
	if !ok || h != c {
		t.Fatalf("ref after reopen = %v %v", h, ok)
	}
	cm, err := again.Commit(h)
	if err != nil {
		t.Fatal(err)
	}
	if got := contents(t, again, cm.Tree); got["a/b"] != "c" {
		t.Errorf("files after reopen = %v", got)
	}
}
