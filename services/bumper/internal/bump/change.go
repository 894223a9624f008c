package bump

import (
	"fmt"
	"regexp"

	"github.com/telefonistka/telefonistka/services/bumper/internal/edit"
)

// Change computes the new content of the target file.
type Change interface {
	// Apply returns the new content given the current one (nil and false
	// when the file does not exist).
	Apply(old []byte, exists bool) ([]byte, error)
	// Describe says what the change does, for logs.
	Describe() string
}

// Overwrite replaces the whole file, creating it if absent.
type Overwrite struct{ Content []byte }

// Apply implements Change.
func (o Overwrite) Apply([]byte, bool) ([]byte, error) { return o.Content, nil }

// Describe implements Change.
func (o Overwrite) Describe() string { return fmt.Sprintf("overwrite with %d bytes", len(o.Content)) }

// Regex replaces every match of Re with Replacement; the file must exist
// and the regex must match.
type Regex struct {
	Re          *regexp.Regexp
	Replacement string
}

// Apply implements Change.
func (r Regex) Apply(old []byte, exists bool) ([]byte, error) {
	if !exists {
		return nil, errMissing
	}
	return edit.Regex(old, r.Re, r.Replacement)
}

// Describe implements Change.
func (r Regex) Describe() string {
	return fmt.Sprintf("replace %q with %q", r.Re.String(), r.Replacement)
}

// YAML sets the nodes Address selects to Value; the file must exist.
type YAML struct {
	Address string
	Value   string
}

// Apply implements Change.
func (y YAML) Apply(old []byte, exists bool) ([]byte, error) {
	if !exists {
		return nil, errMissing
	}
	return edit.YAML(old, y.Address, y.Value)
}

// Describe implements Change.
func (y YAML) Describe() string { return fmt.Sprintf("set %s to %q", y.Address, y.Value) }
