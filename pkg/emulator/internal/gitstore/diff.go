package gitstore

// Change is one file that differs between two trees. From or To has a zero Hash when the
// file is absent on that side.
type Change struct {
	Path     string
	From, To Entry
}

// Added reports whether the file is new.
func (c Change) Added() bool { return c.From.Hash.IsZero() }

// Removed reports whether the file was deleted.
func (c Change) Removed() bool { return c.To.Hash.IsZero() }

// DiffTrees lists the files (blobs, symlinks, submodules) that differ between trees a and b
// (either may be zero for an empty tree), in git path order. Identical subtrees are skipped
// without being read, so small changes to large trees are cheap.
func (s *Store) DiffTrees(a, b Hash) ([]Change, error) {
	var out []Change
	err := s.diffTrees(a, b, "", &out)
	return out, err
}

func (s *Store) entries(h Hash) ([]Entry, error) {
	if h.IsZero() {
		return nil, nil
	}
	t, err := s.Tree(h)
	if err != nil {
		return nil, err
	}
	return t.Entries, nil
}

func (s *Store) diffTrees(a, b Hash, prefix string, out *[]Change) error {
	if a == b {
		return nil
	}
	ea, err := s.entries(a)
	if err != nil {
		return err
	}
	eb, err := s.entries(b)
	if err != nil {
		return err
	}
	names := mergedNames(ea, eb)
	ia, ib := indexOf(ea), indexOf(eb)
	for _, name := range names {
		var from, to Entry
		if i, ok := ia[name]; ok {
			from = ea[i]
		}
		if i, ok := ib[name]; ok {
			to = eb[i]
		}
		if from == to {
			continue
		}
		p := prefix + name
		fromTree, toTree := from.IsTree(), to.IsTree()
		switch {
		case fromTree && toTree:
			err = s.diffTrees(from.Hash, to.Hash, p+"/", out)
		case fromTree:
			err = s.diffTrees(from.Hash, Hash{}, p+"/", out)
			if err == nil && !to.Hash.IsZero() {
				*out = append(*out, Change{Path: p, To: to})
			}
		case toTree:
			if !from.Hash.IsZero() {
				*out = append(*out, Change{Path: p, From: from})
			}
			err = s.diffTrees(Hash{}, to.Hash, p+"/", out)
		default:
			*out = append(*out, Change{Path: p, From: from, To: to})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func indexOf(es []Entry) map[string]int {
	m := make(map[string]int, len(es))
	for i, e := range es {
		m[e.Name] = i
	}
	return m
}

// mergedNames returns the union of both listings' names in plain byte order, which keeps
// the output sorted by path within each directory.
func mergedNames(a, b []Entry) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var names []string
	for _, list := range [][]Entry{a, b} {
		for _, e := range list {
			if !seen[e.Name] {
				seen[e.Name] = true
				names = append(names, e.Name)
			}
		}
	}
	sortStrings(names)
	return names
}
