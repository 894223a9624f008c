package gitstore

import (
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/linediff"
)

// MergeTrees merges the changes from base to ours and from base to theirs (any may be zero
// for an empty tree), file by file and, for text files changed on both sides, line by line.
// It returns the merged tree, or the conflicting paths.
func (s *Store) MergeTrees(base, ours, theirs Hash) (Hash, []string, error) {
	var conflicts []string
	h, err := s.mergeTrees(base, ours, theirs, "", &conflicts)
	if err != nil || len(conflicts) > 0 {
		return Hash{}, conflicts, err
	}
	if h.IsZero() {
		h, err = s.WriteTree(nil)
	}
	return h, nil, err
}

// mergeTrees returns the zero hash when the merged directory is empty.
func (s *Store) mergeTrees(base, ours, theirs Hash, prefix string, conflicts *[]string) (Hash, error) {
	switch {
	case ours == theirs:
		return ours, nil
	case base == ours:
		return theirs, nil
	case base == theirs:
		return ours, nil
	}
	eb, err := s.entries(base)
	if err != nil {
		return Hash{}, err
	}
	eo, err := s.entries(ours)
	if err != nil {
		return Hash{}, err
	}
	et, err := s.entries(theirs)
	if err != nil {
		return Hash{}, err
	}
	ib, io, it := indexOf(eb), indexOf(eo), indexOf(et)
	pick := func(es []Entry, idx map[string]int, name string) Entry {
		if i, ok := idx[name]; ok {
			return es[i]
		}
		return Entry{}
	}
	names := mergedNames(append(append([]Entry{}, eb...), eo...), et)
	var out []Entry
	for _, name := range names {
		b, o, t := pick(eb, ib, name), pick(eo, io, name), pick(et, it, name)
		e, err := s.mergeEntry(prefix+name, b, o, t, conflicts)
		if err != nil {
			return Hash{}, err
		}
		if !e.Hash.IsZero() {
			e.Name = name
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return Hash{}, nil
	}
	return s.WriteTree(out)
}

func (s *Store) mergeEntry(p string, b, o, t Entry, conflicts *[]string) (Entry, error) {
	switch {
	case o == t:
		return o, nil
	case b == o:
		return t, nil
	case b == t:
		return o, nil
	}
	treeOrNone := func(e Entry) bool { return e.Hash.IsZero() || e.IsTree() }
	if o.IsTree() && t.IsTree() && treeOrNone(b) {
		h, err := s.mergeTrees(treeHash(b), o.Hash, t.Hash, p+"/", conflicts)
		return Entry{Mode: o.Mode, Hash: h}, err
	}
	isFile := func(e Entry) bool { return !e.Hash.IsZero() && e.Type() == "blob" }
	if !isFile(o) || !isFile(t) || (!b.Hash.IsZero() && !isFile(b)) {
		*conflicts = append(*conflicts, p)
		return Entry{}, nil
	}
	mode := o.Mode
	switch {
	case o.Mode == t.Mode:
	case o.Mode == b.Mode:
		mode = t.Mode
	case t.Mode == b.Mode:
	default:
		*conflicts = append(*conflicts, p)
		return Entry{}, nil
	}
	if o.Hash == t.Hash {
		return Entry{Mode: mode, Hash: o.Hash}, nil
	}
	merged, ok, err := s.mergeBlobs(b.Hash, o.Hash, t.Hash)
	if err != nil {
		return Entry{}, err
	}
	if !ok {
		*conflicts = append(*conflicts, p)
		return Entry{}, nil
	}
	h, err := s.WriteBlob(merged)
	return Entry{Mode: mode, Hash: h}, err
}

func treeHash(e Entry) Hash {
	if e.IsTree() {
		return e.Hash
	}
	return Hash{}
}

func (s *Store) mergeBlobs(base, ours, theirs Hash) ([]byte, bool, error) {
	var baseData []byte
	if !base.IsZero() {
		var err error
		if baseData, err = s.Blob(base); err != nil {
			return nil, false, err
		}
	}
	oursData, err := s.Blob(ours)
	if err != nil {
		return nil, false, err
	}
	theirsData, err := s.Blob(theirs)
	if err != nil {
		return nil, false, err
	}
	if linediff.IsBinary(baseData) || linediff.IsBinary(oursData) || linediff.IsBinary(theirsData) {
		return nil, false, nil
	}
	merged, ok := linediff.Merge3(string(baseData), string(oursData), string(theirsData))
	return []byte(merged), ok, nil
}
