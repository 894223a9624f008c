package gitstore

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// DefaultBranch returns the branch HEAD points at.
func (s *Store) DefaultBranch() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, err := s.st.Reference(plumbing.HEAD)
	if err != nil || ref.Type() != plumbing.SymbolicReference {
		return "main"
	}
	return ref.Target().Short()
}

// Ref returns the commit a full ref name (refs/heads/x) points at.
func (s *Store) Ref(name string) (Hash, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.refs[name]
	return h, ok
}

// Refs returns every ref with the given prefix, sorted by name.
func (s *Store) Refs(prefix string) []RefValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RefValue
	for name, h := range s.refs {
		if strings.HasPrefix(name, prefix) {
			out = append(out, RefValue{name, h})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RefValue is a ref name and its target.
type RefValue struct {
	Name string
	Hash Hash
}

// SetRef points name at h.
func (s *Store) SetRef(name string, h Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		return fmt.Errorf("writing ref %s: %w", name, err)
	}
	s.refs[name] = h
	return nil
}

// DeleteRef removes name.
func (s *Store) DeleteRef(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.RemoveReference(plumbing.ReferenceName(name)); err != nil {
		return fmt.Errorf("removing ref %s: %w", name, err)
	}
	delete(s.refs, name)
	return nil
}
