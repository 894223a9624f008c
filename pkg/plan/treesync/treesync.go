// Package treesync computes what a promotion writes to git: given the
// flattened tree of the default branch head (the base) and the flattened tree
// at the merge commit (the source), and the sync pairs of a plan entry, it
// returns the create-tree entries that make every target directory exactly
// its source directory, with deletions listed explicitly.
//
// The work is proportional to the number of files under the pairs' source
// and target directories (plus one sort of each tree), and independent of how
// many directories there are; tree entries are ignored altogether.
package treesync

import (
	"sort"
	"strings"
)

// Type values of tree entries, as git and GitHub name them.
const (
	TypeBlob   = "blob"
	TypeTree   = "tree"
	TypeCommit = "commit" // a submodule
)

// Entry is one item of a flattened tree.
type Entry struct {
	Mode string // "100644", "100755", "120000" (symlink), "160000" (submodule)
	Type string // TypeBlob, TypeTree or TypeCommit
	SHA  string
}

// Tree is a flattened recursive tree: repo path -> entry. Tree (directory)
// entries may be present; they are ignored.
type Tree map[string]Entry

// Index is a Tree with its file paths sorted, for prefix lookups. Build it
// once per tree and reuse it for every entry of a plan.
type Index struct {
	tree  Tree
	paths []string
}

// NewIndex indexes t.
func NewIndex(t Tree) *Index {
	paths := make([]string, 0, len(t))
	for p, e := range t {
		if e.Type != TypeTree {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return &Index{tree: t, paths: paths}
}

// Lookup returns the entry at path.
func (ix *Index) Lookup(path string) (Entry, bool) {
	e, ok := ix.tree[path]
	return e, ok && e.Type != TypeTree
}

// Under returns the sorted file paths under dir (a directory path without
// trailing "/").
func (ix *Index) Under(dir string) []string {
	prefix := dir + "/"
	start := sort.SearchStrings(ix.paths, prefix)
	end := start
	for end < len(ix.paths) && strings.HasPrefix(ix.paths[end], prefix) {
		end++
	}
	return ix.paths[start:end]
}

// SameContent reports whether directories a and b (no trailing "/") hold
// the same relative paths with the same modes and blobs.
func (ix *Index) SameContent(a, b string) bool {
	fa, fb := ix.Under(a), ix.Under(b)
	if len(fa) != len(fb) {
		return false
	}
	for i := range fa {
		ra, rb := fa[i][len(a)+1:], fb[i][len(b)+1:]
		if ra != rb || !sameEntry(ix.tree[fa[i]], ix.tree[fb[i]]) {
			return false
		}
	}
	return true
}

func sameEntry(a, b Entry) bool {
	return a.SHA == b.SHA && a.Mode == b.Mode && a.Type == b.Type
}

// Pair asks to make Target exactly Source. Both are directory paths without
// trailing "/" (plan.SyncPair's Source() and Target()).
type Pair struct {
	Source string
	Target string
}

// Change is one create-tree entry. A deletion has Delete set and no SHA
// (GitHub's create-tree takes "sha": null).
type Change struct {
	Path   string
	Mode   string
	Type   string
	SHA    string
	Delete bool
}

// PairChanges lists, for one pair, the target files that would be added,
// changed or deleted (full repo paths, sorted).
type PairChanges struct {
	Source  string
	Target  string
	Added   []string
	Changed []string
	Deleted []string
}

// Empty reports whether the pair changes nothing.
func (p PairChanges) Empty() bool {
	return len(p.Added) == 0 && len(p.Changed) == 0 && len(p.Deleted) == 0
}

// Result is the outcome of Compute.
type Result struct {
	// Changes are the create-tree entries (with base_tree = the base tree),
	// sorted by path.
	Changes []Change
	// Pairs has the changes of each pair, in input order.
	Pairs []PairChanges
	// InSync is true when the result equals the base: nothing to write.
	InSync bool
}

// Compute returns the tree changes for pairs. When two pairs write the same
// path, the later pair wins; a target path that is a file in the base is
// replaced by the directory. Paths outside the pairs' targets are never
// touched.
func Compute(base, source *Index, pairs []Pair) Result {
	type op struct {
		entry  Entry
		delete bool
	}
	want := map[string]op{}
	res := Result{Pairs: make([]PairChanges, 0, len(pairs))}
	for _, p := range pairs {
		pc := PairChanges{Source: p.Source, Target: p.Target}
		srcFiles, dstFiles := source.Under(p.Source), base.Under(p.Target)
		present := make(map[string]bool, len(srcFiles))
		for _, f := range srcFiles {
			rel := f[len(p.Source)+1:]
			present[rel] = true
			dst := p.Target + "/" + rel
			e := source.tree[f]
			want[dst] = op{entry: e}
			if old, ok := base.Lookup(dst); !ok {
				pc.Added = append(pc.Added, dst)
			} else if !sameEntry(old, e) {
				pc.Changed = append(pc.Changed, dst)
			}
		}
		for _, f := range dstFiles {
			if !present[f[len(p.Target)+1:]] {
				want[f] = op{delete: true}
				pc.Deleted = append(pc.Deleted, f)
			}
		}
		if _, isFile := base.Lookup(p.Target); isFile && len(srcFiles) > 0 {
			want[p.Target] = op{delete: true}
			pc.Deleted = append(pc.Deleted, p.Target)
		}
		sort.Strings(pc.Deleted)
		res.Pairs = append(res.Pairs, pc)
	}
	for path, o := range want {
		old, inBase := base.Lookup(path)
		switch {
		case o.delete && inBase:
			res.Changes = append(res.Changes, Change{Path: path, Mode: old.Mode, Type: old.Type, Delete: true})
		case !o.delete && (!inBase || !sameEntry(old, o.entry)):
			res.Changes = append(res.Changes, Change{Path: path, Mode: o.entry.Mode, Type: o.entry.Type, SHA: o.entry.SHA})
		}
	}
	sort.Slice(res.Changes, func(i, j int) bool { return res.Changes[i].Path < res.Changes[j].Path })
	res.InSync = len(res.Changes) == 0
	return res
}
