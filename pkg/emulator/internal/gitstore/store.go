// Package gitstore keeps one git repository (objects and refs) in go-git storage, in memory
// or on disk, with caches of the decoded immutable objects that make large trees cheap to read.
package gitstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ErrNotFound is returned for missing objects and refs.
var ErrNotFound = errors.New("not found")

// Hash is a git object id.
type Hash = plumbing.Hash

// Entry is one tree entry.
type Entry struct {
	Name string
	Mode filemode.FileMode
	Hash Hash
}

// IsTree reports whether the entry is a subdirectory.
func (e Entry) IsTree() bool { return e.Mode == filemode.Dir }

// Type is the entry's object type as GitHub names it: blob, tree or commit (submodule).
func (e Entry) Type() string {
	switch e.Mode {
	case filemode.Dir:
		return "tree"
	case filemode.Submodule:
		return "commit"
	}
	return "blob"
}

// Tree is a decoded tree object; it is shared and must not be modified.
type Tree struct {
	Hash    Hash
	Entries []Entry
	index   map[string]int
}

// Find returns the entry called name.
func (t *Tree) Find(name string) (Entry, bool) {
	if i, ok := t.index[name]; ok {
		return t.Entries[i], true
	}
	return Entry{}, false
}

// Signature names the author or committer of a commit.
type Signature struct {
	Name, Email string
	When        time.Time
}

// Commit is a decoded commit object.
type Commit struct {
	Hash      Hash
	Tree      Hash
	Parents   []Hash
	Author    Signature
	Committer Signature
	Message   string
}

// Store is one repository's objects and refs. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex // guards st and refs
	st      storage.Storer
	refs    map[string]Hash
	trees   *LRU[Hash, *Tree]
	commits *LRU[Hash, *Commit]
	sizes   *LRU[Hash, int64]
	flat    *LRU[Hash, []FlatEntry]
	gmu     sync.Mutex
	gens    map[Hash]int
}

// NewMemory returns an empty repository held in memory.
func NewMemory(defaultBranch string) (*Store, error) {
	return initStore(memory.NewStorage(), defaultBranch)
}

// OpenDir opens the bare repository in dir, creating it with defaultBranch when absent.
func OpenDir(dir, defaultBranch string) (*Store, error) {
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	if _, err := st.Reference(plumbing.HEAD); err == nil {
		s := newStore(st)
		return s, s.loadRefs()
	}
	return initStore(st, defaultBranch)
}

func newStore(st storage.Storer) *Store {
	return &Store{
		st:      st,
		refs:    map[string]Hash{},
		trees:   NewLRU[Hash, *Tree](200_000),
		commits: NewLRU[Hash, *Commit](200_000),
		sizes:   NewLRU[Hash, int64](500_000),
		flat:    NewLRU[Hash, []FlatEntry](64),
		gens:    map[Hash]int{},
	}
}

func initStore(st storage.Storer, defaultBranch string) (*Store, error) {
	_, err := git.InitWithOptions(st, nil, git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(defaultBranch)})
	if err != nil {
		return nil, fmt.Errorf("initialising git repository: %w", err)
	}
	return newStore(st), nil
}

func (s *Store) loadRefs() error {
	iter, err := s.st.IterReferences()
	if err != nil {
		return fmt.Errorf("listing refs: %w", err)
	}
	return iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference && strings.HasPrefix(r.Name().String(), "refs/") {
			s.refs[r.Name().String()] = r.Hash()
		}
		return nil
	})
}

func (s *Store) object(t plumbing.ObjectType, h Hash) (plumbing.EncodedObject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, err := s.st.EncodedObject(t, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("object %s: %w", h, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading object %s: %w", h, err)
	}
	return obj, nil
}

// ObjectType returns the type of object h, or ErrNotFound.
func (s *Store) ObjectType(h Hash) (plumbing.ObjectType, error) {
	if _, ok := s.trees.Get(h); ok {
		return plumbing.TreeObject, nil
	}
	if _, ok := s.commits.Get(h); ok {
		return plumbing.CommitObject, nil
	}
	obj, err := s.object(plumbing.AnyObject, h)
	if err != nil {
		return plumbing.InvalidObject, err
	}
	return obj.Type(), nil
}

// Blob returns the content of blob h.
func (s *Store) Blob(h Hash) ([]byte, error) {
	obj, err := s.object(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("opening blob %s: %w", h, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", h, err)
	}
	return data, nil
}

// BlobSize returns the size in bytes of blob h.
func (s *Store) BlobSize(h Hash) (int64, error) {
	if n, ok := s.sizes.Get(h); ok {
		return n, nil
	}
	s.mu.Lock()
	n, err := s.st.EncodedObjectSize(h)
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("sizing object %s: %w", h, ErrNotFound)
	}
	s.sizes.Put(h, n)
	return n, nil
}

func (s *Store) write(t plumbing.ObjectType, data []byte) (Hash, error) {
	h := plumbing.ComputeHash(t, data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.HasEncodedObject(h) == nil {
		return h, nil
	}
	obj := s.st.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return Hash{}, fmt.Errorf("writing %s object: %w", t, err)
	}
	if _, err := w.Write(data); err != nil {
		return Hash{}, fmt.Errorf("writing %s object: %w", t, err)
	}
	if err := w.Close(); err != nil {
		return Hash{}, fmt.Errorf("writing %s object: %w", t, err)
	}
	if _, err := s.st.SetEncodedObject(obj); err != nil {
		return Hash{}, fmt.Errorf("storing %s object: %w", t, err)
	}
	return h, nil
}

// WriteBlob stores data as a blob.
func (s *Store) WriteBlob(data []byte) (Hash, error) {
	h, err := s.write(plumbing.BlobObject, data)
	if err == nil {
		s.sizes.Put(h, int64(len(data)))
	}
	return h, err
}

// Tree returns the decoded tree h.
func (s *Store) Tree(h Hash) (*Tree, error) {
	if t, ok := s.trees.Get(h); ok {
		return t, nil
	}
	obj, err := s.object(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	var ot object.Tree
	if err := ot.Decode(obj); err != nil {
		return nil, fmt.Errorf("decoding tree %s: %w", h, err)
	}
	t := &Tree{Hash: h, Entries: make([]Entry, len(ot.Entries))}
	for i, e := range ot.Entries {
		t.Entries[i] = Entry{Name: e.Name, Mode: e.Mode, Hash: e.Hash}
	}
	t.buildIndex()
	s.trees.Put(h, t)
	return t, nil
}

func (t *Tree) buildIndex() {
	t.index = make(map[string]int, len(t.Entries))
	for i, e := range t.Entries {
		t.index[e.Name] = i
	}
}

// WriteTree stores a tree made of entries (in any order; names must be unique).
func (s *Store) WriteTree(entries []Entry) (Hash, error) {
	ot := object.Tree{Entries: make([]object.TreeEntry, len(entries))}
	for i, e := range entries {
		if e.Name == "" || strings.ContainsAny(e.Name, "/\x00") || e.Name == "." || e.Name == ".." {
			return Hash{}, fmt.Errorf("invalid tree entry name %q", e.Name)
		}
		ot.Entries[i] = object.TreeEntry{Name: e.Name, Mode: e.Mode, Hash: e.Hash}
	}
	sort.Sort(object.TreeEntrySorter(ot.Entries))
	for i := 1; i < len(ot.Entries); i++ {
		if ot.Entries[i].Name == ot.Entries[i-1].Name {
			return Hash{}, fmt.Errorf("duplicate tree entry %q", ot.Entries[i].Name)
		}
	}
	obj := &plumbing.MemoryObject{}
	if err := ot.Encode(obj); err != nil {
		return Hash{}, fmt.Errorf("encoding tree: %w", err)
	}
	data, err := readAll(obj)
	if err != nil {
		return Hash{}, err
	}
	h, err := s.write(plumbing.TreeObject, data)
	if err != nil {
		return Hash{}, err
	}
	t := &Tree{Hash: h, Entries: make([]Entry, len(ot.Entries))}
	for i, e := range ot.Entries {
		t.Entries[i] = Entry{Name: e.Name, Mode: e.Mode, Hash: e.Hash}
	}
	t.buildIndex()
	s.trees.Put(h, t)
	return h, nil
}

// Commit returns the decoded commit h.
func (s *Store) Commit(h Hash) (*Commit, error) {
	if c, ok := s.commits.Get(h); ok {
		return c, nil
	}
	obj, err := s.object(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	var oc object.Commit
	if err := oc.Decode(obj); err != nil {
		return nil, fmt.Errorf("decoding commit %s: %w", h, err)
	}
	c := &Commit{
		Hash: h, Tree: oc.TreeHash, Parents: oc.ParentHashes, Message: oc.Message,
		Author:    Signature{oc.Author.Name, oc.Author.Email, oc.Author.When.UTC()},
		Committer: Signature{oc.Committer.Name, oc.Committer.Email, oc.Committer.When.UTC()},
	}
	s.commits.Put(h, c)
	return c, nil
}

// WriteCommit stores c (its Hash is ignored) and returns the new commit's hash.
func (s *Store) WriteCommit(c Commit) (Hash, error) {
	oc := object.Commit{
		Author:       object.Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When.UTC()},
		Committer:    object.Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When.UTC()},
		Message:      c.Message,
		TreeHash:     c.Tree,
		ParentHashes: c.Parents,
	}
	obj := &plumbing.MemoryObject{}
	if err := oc.Encode(obj); err != nil {
		return Hash{}, fmt.Errorf("encoding commit: %w", err)
	}
	data, err := readAll(obj)
	if err != nil {
		return Hash{}, err
	}
	h, err := s.write(plumbing.CommitObject, data)
	if err != nil {
		return Hash{}, err
	}
	c.Hash = h
	c.Author.When, c.Committer.When = c.Author.When.UTC().Truncate(time.Second), c.Committer.When.UTC().Truncate(time.Second)
	s.commits.Put(h, &c)
	return h, nil
}

func readAll(obj *plumbing.MemoryObject) ([]byte, error) {
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("reading encoded object: %w", err)
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("reading encoded object: %w", err)
	}
	return buf.Bytes(), nil
}
