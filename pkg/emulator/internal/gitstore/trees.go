package gitstore

import (
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// MaxRecursiveEntries is GitHub's limit for a recursive tree listing; longer listings are
// truncated.
const MaxRecursiveEntries = 100_000

// FlatEntry is one entry of a recursive tree listing.
type FlatEntry struct {
	Path string
	Mode filemode.FileMode
	Hash Hash
	Size int64 // -1 for trees and submodules
}

// Type is the entry's object type name.
func (f FlatEntry) Type() string { return Entry{Mode: f.Mode}.Type() }

// Flatten lists every entry below tree h (trees included, parents before children), in
// git order, as GitHub's recursive tree listing does. The result is shared: do not modify it.
func (s *Store) Flatten(h Hash) ([]FlatEntry, error) {
	if f, ok := s.flat.Get(h); ok {
		return f, nil
	}
	var out []FlatEntry
	if err := s.flatten(h, "", &out); err != nil {
		return nil, err
	}
	s.flat.Put(h, out)
	return out, nil
}

func (s *Store) flatten(h Hash, prefix string, out *[]FlatEntry) error {
	t, err := s.Tree(h)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		fe := FlatEntry{Path: prefix + e.Name, Mode: e.Mode, Hash: e.Hash, Size: -1}
		if e.Type() == "blob" {
			if fe.Size, err = s.BlobSize(e.Hash); err != nil {
				return err
			}
		}
		*out = append(*out, fe)
		if e.IsTree() {
			if err := s.flatten(e.Hash, fe.Path+"/", out); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lookup finds the entry at path p (no leading slash) below root. The root itself is
// returned for an empty path.
func (s *Store) Lookup(root Hash, p string) (Entry, bool, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return Entry{Name: "", Mode: filemode.Dir, Hash: root}, true, nil
	}
	cur := Entry{Mode: filemode.Dir, Hash: root}
	for _, seg := range strings.Split(p, "/") {
		if !cur.IsTree() {
			return Entry{}, false, nil
		}
		t, err := s.Tree(cur.Hash)
		if err != nil {
			return Entry{}, false, err
		}
		e, ok := t.Find(seg)
		if !ok {
			return Entry{}, false, nil
		}
		cur = e
	}
	return cur, true, nil
}

// Files returns the blobs below dir (recursively) at root, keyed by full path.
func (s *Store) Files(root Hash, dir string) (map[string]Entry, error) {
	dir = strings.Trim(dir, "/")
	e, ok, err := s.Lookup(root, dir)
	if err != nil || !ok {
		return map[string]Entry{}, err
	}
	out := map[string]Entry{}
	if !e.IsTree() {
		out[dir] = e
		return out, nil
	}
	flat, err := s.Flatten(e.Hash)
	if err != nil {
		return nil, err
	}
	for _, f := range flat {
		if f.Mode != filemode.Dir {
			out[path.Join(dir, f.Path)] = Entry{Name: path.Base(f.Path), Mode: f.Mode, Hash: f.Hash}
		}
	}
	return out, nil
}

// Edit changes one path of a tree.
type Edit struct {
	Path   string
	Delete bool
	Mode   filemode.FileMode
	Hash   Hash
}

// ApplyEdits applies edits in order to base (the zero hash means an empty tree) and writes
// the resulting trees. Like GitHub's create-tree with base_tree, nested paths create
// intermediate directories, a tree entry placed over an existing directory is merged into
// it (files only in the old directory stay unless deleted explicitly), a delete removes the
// path whatever it holds, and directories left empty disappear.
func (s *Store) ApplyEdits(base Hash, edits []Edit) (Hash, error) {
	root := &node{entries: map[string]Entry{}, children: map[string]*node{}}
	if !base.IsZero() {
		var err error
		if root, err = s.loadNode(base); err != nil {
			return Hash{}, err
		}
	}
	for _, ed := range edits {
		if err := s.applyEdit(root, ed); err != nil {
			return Hash{}, err
		}
	}
	return s.writeNode(root)
}

type node struct {
	entries  map[string]Entry
	children map[string]*node
}

func (s *Store) loadNode(h Hash) (*node, error) {
	t, err := s.Tree(h)
	if err != nil {
		return nil, err
	}
	n := &node{entries: make(map[string]Entry, len(t.Entries)), children: map[string]*node{}}
	for _, e := range t.Entries {
		n.entries[e.Name] = e
	}
	return n, nil
}

// child returns the editable subdirectory name of n, creating it (over a file if needed).
func (s *Store) child(n *node, name string) (*node, error) {
	if c, ok := n.children[name]; ok {
		return c, nil
	}
	var c *node
	if e, ok := n.entries[name]; ok && e.IsTree() {
		var err error
		if c, err = s.loadNode(e.Hash); err != nil {
			return nil, err
		}
	} else {
		c = &node{entries: map[string]Entry{}, children: map[string]*node{}}
	}
	n.children[name] = c
	n.entries[name] = Entry{Name: name, Mode: filemode.Dir}
	return c, nil
}

func (s *Store) applyEdit(root *node, ed Edit) error {
	segs := strings.Split(strings.Trim(ed.Path, "/"), "/")
	for _, seg := range segs {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid path %q", ed.Path)
		}
	}
	n := root
	for _, seg := range segs[:len(segs)-1] {
		if ed.Delete {
			if e, ok := n.entries[seg]; !ok || !e.IsTree() {
				return nil // deleting below a missing directory changes nothing
			}
		}
		var err error
		if n, err = s.child(n, seg); err != nil {
			return err
		}
	}
	name := segs[len(segs)-1]
	switch {
	case ed.Delete:
		delete(n.entries, name)
		delete(n.children, name)
	case ed.Mode == filemode.Dir:
		if old, ok := n.entries[name]; ok && old.IsTree() {
			c, err := s.child(n, name)
			if err != nil {
				return err
			}
			return s.overlay(c, ed.Hash)
		}
		delete(n.children, name)
		n.entries[name] = Entry{Name: name, Mode: filemode.Dir, Hash: ed.Hash}
	default:
		delete(n.children, name)
		n.entries[name] = Entry{Name: name, Mode: ed.Mode, Hash: ed.Hash}
	}
	return nil
}

// overlay merges tree h into n: h's entries win, entries only in n stay.
func (s *Store) overlay(n *node, h Hash) error {
	t, err := s.Tree(h)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		if old, ok := n.entries[e.Name]; ok && old.IsTree() && e.IsTree() {
			c, err := s.child(n, e.Name)
			if err != nil {
				return err
			}
			if err := s.overlay(c, e.Hash); err != nil {
				return err
			}
			continue
		}
		delete(n.children, e.Name)
		n.entries[e.Name] = e
	}
	return nil
}

func (s *Store) writeNode(n *node) (Hash, error) {
	for name, c := range n.children {
		h, err := s.writeNode(c)
		if err != nil {
			return Hash{}, err
		}
		if len(c.entries) == 0 {
			delete(n.entries, name)
			continue
		}
		n.entries[name] = Entry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	entries := make([]Entry, 0, len(n.entries))
	for _, e := range n.entries {
		entries = append(entries, e)
	}
	return s.WriteTree(entries)
}

// BuildTree writes a tree holding the given files (path -> content), all mode 100644.
func (s *Store) BuildTree(files map[string][]byte) (Hash, error) {
	edits := make([]Edit, 0, len(files))
	for p, content := range files {
		h, err := s.WriteBlob(content)
		if err != nil {
			return Hash{}, err
		}
		edits = append(edits, Edit{Path: p, Mode: filemode.Regular, Hash: h})
	}
	return s.ApplyEdits(Hash{}, edits)
}
