package edit

import (
	"fmt"
	"path"
	"strings"
)

// IsYAMLPath reports whether the file name ends in .yaml or .yml.
func IsYAMLPath(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// CheckYAML fails when file is a YAML file whose old content parsed but whose
// new content does not, so a bump never breaks a file that was valid. Old
// content that did not parse, and files that are not YAML, are not checked.
func CheckYAML(file string, old, new []byte) error {
	if !IsYAMLPath(file) {
		return nil
	}
	if _, err := parseDocuments(old); err != nil {
		return nil
	}
	if _, err := parseDocuments(new); err != nil {
		return fmt.Errorf("the new content of %s is not valid YAML: %w", file, err)
	}
	return nil
}
