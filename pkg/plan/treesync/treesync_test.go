package treesync

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func blob(sha string) Entry { return Entry{Mode: "100644", Type: TypeBlob, SHA: sha} }
func exe(sha string) Entry  { return Entry{Mode: "100755", Type: TypeBlob, SHA: sha} }
func link(sha string) Entry { return Entry{Mode: "120000", Type: TypeBlob, SHA: sha} }

func show(r Result) []string {
	var out []string
	for _, c := range r.Changes {
		if c.Delete {
			out = append(out, "delete "+c.Path)
		} else {
			out = append(out, fmt.Sprintf("write %s %s %s %s", c.Path, c.Mode, c.Type, c.SHA))
		}
	}
	return out
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name         string
		base, source Tree
		pairs        []Pair
		want         []string
		inSync       bool
	}{
		{
			name:   "new component in target",
			base:   Tree{"src/nginx/a.yaml": blob("a1"), "src/nginx": {Mode: "040000", Type: TypeTree, SHA: "t1"}},
			source: Tree{"src/nginx/a.yaml": blob("a1"), "src/nginx/sub/deep/b.yaml": blob("b1")},
			pairs:  []Pair{{"src/nginx", "dst/nginx"}},
			want:   []string{"write dst/nginx/a.yaml 100644 blob a1", "write dst/nginx/sub/deep/b.yaml 100644 blob b1"},
		},
		{
			name:   "changed, unchanged and removed files",
			base:   Tree{"dst/nginx/same": blob("s"), "dst/nginx/old": blob("o"), "dst/nginx/chg": blob("c1"), "dst/other/x": blob("x")},
			source: Tree{"src/nginx/same": blob("s"), "src/nginx/chg": blob("c2")},
			pairs:  []Pair{{"src/nginx", "dst/nginx"}},
			want:   []string{"write dst/nginx/chg 100644 blob c2", "delete dst/nginx/old"},
		},
		{
			name:   "executable bit and symlink",
			base:   Tree{"dst/c/run.sh": blob("r"), "dst/c/l": blob("target")},
			source: Tree{"src/c/run.sh": exe("r"), "src/c/l": link("target")},
			pairs:  []Pair{{"src/c", "dst/c"}},
			want:   []string{"write dst/c/l 120000 blob target", "write dst/c/run.sh 100755 blob r"},
		},
		{
			name:   "submodule copied",
			source: Tree{"src/c/vendor/lib": {Mode: "160000", Type: TypeCommit, SHA: "c0ffee"}},
			pairs:  []Pair{{"src/c", "dst/c"}},
			want:   []string{"write dst/c/vendor/lib 160000 commit c0ffee"},
		},
		{
			name:   "source deleted: whole target deleted, nested",
			base:   Tree{"dst/c/a": blob("a"), "dst/c/d1/d2/b": blob("b"), "dst/c2/keep": blob("k")},
			source: Tree{"src/other/x": blob("x")},
			pairs:  []Pair{{"src/c", "dst/c"}},
			want:   []string{"delete dst/c/a", "delete dst/c/d1/d2/b"},
		},
		{
			name:   "source and target absent",
			base:   Tree{"dst/x/a": blob("a")},
			source: Tree{},
			pairs:  []Pair{{"src/c", "dst/c"}},
			inSync: true,
		},
		{
			name:   "already in sync",
			base:   Tree{"dst/c/a": blob("a"), "dst/c/b/c": exe("c")},
			source: Tree{"src/c/a": blob("a"), "src/c/b/c": exe("c")},
			pairs:  []Pair{{"src/c", "dst/c"}},
			inSync: true,
		},
		{
			name:   "rename: old component deleted, new one added",
			base:   Tree{"dst/old/a": blob("a")},
			source: Tree{"src/new/a": blob("a")},
			pairs:  []Pair{{"src/new", "dst/new"}, {"src/old", "dst/old"}},
			want:   []string{"write dst/new/a 100644 blob a", "delete dst/old/a"},
		},
		{
			name:   "fan-out to several targets from several sources",
			base:   Tree{"prod/eu/nginx/a": blob("old")},
			source: Tree{"stg/1/nginx/a": blob("n1"), "stg/2/redis/r": blob("r2")},
			pairs:  []Pair{{"stg/1/nginx", "prod/eu/nginx"}, {"stg/1/nginx", "prod/us/nginx"}, {"stg/2/redis", "prod/eu/redis"}},
			want:   []string{"write prod/eu/nginx/a 100644 blob n1", "write prod/eu/redis/r 100644 blob r2", "write prod/us/nginx/a 100644 blob n1"},
		},
		{
			name:   "prefix-sharing names are not mixed up",
			base:   Tree{"dst/nginx2/a": blob("x"), "dst/nginx-b/a": blob("y")},
			source: Tree{"src/nginx/a": blob("z"), "src/nginx2/a": blob("w")},
			pairs:  []Pair{{"src/nginx", "dst/nginx"}},
			want:   []string{"write dst/nginx/a 100644 blob z"},
		},
		{
			name:   "file where the target directory should be",
			base:   Tree{"dst/c": blob("f"), "dst/c.txt": blob("g")},
			source: Tree{"src/c/a": blob("a")},
			pairs:  []Pair{{"src/c", "dst/c"}},
			want:   []string{"delete dst/c", "write dst/c/a 100644 blob a"},
		},
		{
			name:   "file in target replaced by a directory of the same name",
			base:   Tree{"dst/c/x": blob("f")},
			source: Tree{"src/c/x/y": blob("a")},
			pairs:  []Pair{{"src/c", "dst/c"}},
			want:   []string{"delete dst/c/x", "write dst/c/x/y 100644 blob a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base == nil {
				base = Tree{}
			}
			r := Compute(NewIndex(base), NewIndex(tt.source), tt.pairs)
			if got := show(r); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changes:\n got %q\nwant %q", got, tt.want)
			}
			if r.InSync != tt.inSync {
				t.Errorf("InSync = %v, want %v", r.InSync, tt.inSync)
			}
			if len(r.Pairs) != len(tt.pairs) {
				t.Errorf("got %d pair reports for %d pairs", len(r.Pairs), len(tt.pairs))
			}
		})
	}
}

func TestPairChanges(t *testing.T) {
	base := NewIndex(Tree{"d/c/same": blob("s"), "d/c/chg": blob("1"), "d/c/gone": blob("g")})
	src := NewIndex(Tree{"s/c/same": blob("s"), "s/c/chg": blob("2"), "s/c/new": blob("n")})
	r := Compute(base, src, []Pair{{"s/c", "d/c"}})
	want := PairChanges{Source: "s/c", Target: "d/c", Added: []string{"d/c/new"}, Changed: []string{"d/c/chg"}, Deleted: []string{"d/c/gone"}}
	if !reflect.DeepEqual(r.Pairs[0], want) {
		t.Errorf("pair changes = %+v, want %+v", r.Pairs[0], want)
	}
}

func TestSameContent(t *testing.T) {
	ix := NewIndex(Tree{
		"a/x": blob("1"), "a/y/z": exe("2"),
		"b/x": blob("1"), "b/y/z": exe("2"),
		"c/x": blob("1"), "c/y/z": blob("2"),
		"d/x": blob("1"),
	})
	for pair, want := range map[[2]string]bool{{"a", "b"}: true, {"a", "c"}: false, {"a", "d"}: false, {"e", "f"}: true} {
		if got := ix.SameContent(pair[0], pair[1]); got != want {
			t.Errorf("SameContent(%q, %q) = %v, want %v", pair[0], pair[1], got, want)
		}
	}
}

// BenchmarkComputeFlat and BenchmarkComputeDeep sync 10,000 files; the work
// must not depend on how many directories hold them.
func BenchmarkComputeFlat(b *testing.B) { benchCompute(b, 1) }
func BenchmarkComputeDeep(b *testing.B) { benchCompute(b, 1000) }

func benchCompute(b *testing.B, dirs int) {
	base, src := Tree{}, Tree{}
	for i := range 10_000 {
		rel := fmt.Sprintf("d%d/%s/f%d", i%dirs, strings.Repeat("x/", i%5), i)
		src["src/c/"+rel] = blob(fmt.Sprint(i))
		if i%2 == 0 {
			base["dst/c/"+rel] = blob("old")
		}
	}
	bi, si := NewIndex(base), NewIndex(src)
	for b.Loop() {
		Compute(bi, si, []Pair{{"src/c", "dst/c"}})
	}
}
