// Package treediff compares the source and target directories of a sync
// pair in one flattened git tree and renders what differs: a unified diff
// per changed text file, a line per file missing on one side, and a line
// per changed binary file. It is pure; file contents come from the caller.
package treediff

import (
	"sort"
	"strings"
)

// Git object types of tree entries.
const (
	TypeBlob   = "blob"
	TypeTree   = "tree"
	TypeCommit = "commit" // a submodule (gitlink)
)

// Entry is one entry of a recursive tree listing.
type Entry struct {
	// Path is repo-relative (or, in a PairDiff, relative to the pair's
	// directory).
	Path string
	Mode string
	Type string
	SHA  string
}

// Tree indexes a recursive tree listing by path.
type Tree struct {
	entries []Entry // sorted by Path
	dirs    map[string]string
}

// NewTree indexes entries (the listing of one commit's tree, or the
// listings of some of its subtrees with repo-relative paths, including the
// tree entries of the subtrees themselves).
func NewTree(entries []Entry) *Tree {
	t := &Tree{entries: make([]Entry, 0, len(entries)), dirs: map[string]string{}}
	for _, e := range entries {
		if e.Type == TypeTree {
			t.dirs[e.Path] = e.SHA
			continue
		}
		t.entries = append(t.entries, e)
	}
	sort.Slice(t.entries, func(i, j int) bool { return t.entries[i].Path < t.entries[j].Path })
	return t
}

// Dir returns the tree SHA of directory dir (no trailing "/"), and
// whether it exists.
func (t *Tree) Dir(dir string) (string, bool) {
	sha, ok := t.dirs[strings.TrimSuffix(dir, "/")]
	return sha, ok
}

// Files returns the non-tree entries under dir, sorted, with paths
// relative to dir.
func (t *Tree) Files(dir string) []Entry {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].Path >= prefix })
	var out []Entry
	for ; i < len(t.entries) && strings.HasPrefix(t.entries[i].Path, prefix); i++ {
		e := t.entries[i]
		e.Path = e.Path[len(prefix):]
		out = append(out, e)
	}
	return out
}

// Kind says how a file differs between the two directories.
type Kind int

// Kinds of FileDiff.
const (
	// Changed: in both directories with different contents.
	Changed Kind = iota
	// OnlyInSource: missing from the target directory.
	OnlyInSource
	// OnlyInTarget: missing from the source directory.
	OnlyInTarget
)

// FileDiff is one file that differs.
type FileDiff struct {
	// Path is relative to the pair's directories.
	Path   string
	Kind   Kind
	Source Entry // zero for OnlyInTarget
	Target Entry // zero for OnlyInSource
}

// PairDiff is what differs between a source and a target directory.
type PairDiff struct {
	// Source and Target are the compared directories (component paths, no
	// trailing "/").
	Source, Target string
	// Files are sorted by path.
	Files []FileDiff
}

// Compare compares directories source and target of t. It returns nil
// when they do not drift: equal tree SHAs, both absent, or (after a
// file-by-file look) no file whose contents differ on both sides or that is
// missing on one side (entries that differ only in mode do not count).
func Compare(t *Tree, source, target string) *PairDiff {
	source, target = strings.TrimSuffix(source, "/"), strings.TrimSuffix(target, "/")
	srcSHA, srcOK := t.Dir(source)
	tgtSHA, tgtOK := t.Dir(target)
	if srcOK == tgtOK && srcSHA == tgtSHA {
		return nil
	}
	src, tgt := t.Files(source), t.Files(target)
	d := &PairDiff{Source: source, Target: target}
	i, j := 0, 0
	for i < len(src) || j < len(tgt) {
		switch {
		case j == len(tgt) || i < len(src) && src[i].Path < tgt[j].Path:
			d.Files = append(d.Files, FileDiff{Path: src[i].Path, Kind: OnlyInSource, Source: src[i]})
			i++
		case i == len(src) || tgt[j].Path < src[i].Path:
			d.Files = append(d.Files, FileDiff{Path: tgt[j].Path, Kind: OnlyInTarget, Target: tgt[j]})
			j++
		default:
			if src[i].SHA != tgt[j].SHA {
				d.Files = append(d.Files, FileDiff{Path: src[i].Path, Kind: Changed, Source: src[i], Target: tgt[j]})
			}
			i++
			j++
		}
	}
	if len(d.Files) == 0 {
		return nil
	}
	return d
}

// Blobs returns the blob SHAs whose contents Render needs, without
// duplicates, in order of first use.
func (d *PairDiff) Blobs() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range d.Files {
		if f.Kind != Changed {
			continue
		}
		for _, e := range []Entry{f.Source, f.Target} {
			if e.Type == TypeBlob && !seen[e.SHA] {
				seen[e.SHA] = true
				out = append(out, e.SHA)
			}
		}
	}
	return out
}

// Counts returns how many files changed, and how many are missing from
// the target and from the source.
func (d *PairDiff) Counts() (changed, onlyInSource, onlyInTarget int) {
	for _, f := range d.Files {
		switch f.Kind {
		case Changed:
			changed++
		case OnlyInSource:
			onlyInSource++
		case OnlyInTarget:
			onlyInTarget++
		}
	}
	return changed, onlyInSource, onlyInTarget
}
