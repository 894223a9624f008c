package edit

import (
	"fmt"
	"regexp"
)

// CompileRegex compiles a bump-regex pattern (Go's RE2 syntax).
func CompileRegex(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, fmt.Errorf("the regex is empty")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("compiling the regex %q: %w", pattern, err)
	}
	return re, nil
}

// Regex replaces every match of re in content with replacement, in which
// $1, ${1} and ${name} stand for the submatches (use ${1}x, not $1x, when a
// letter or digit follows). A regex that matches nothing is an error.
func Regex(content []byte, re *regexp.Regexp, replacement string) ([]byte, error) {
	if !re.Match(content) {
		return nil, fmt.Errorf("the regex %q matches nothing in the file: %w", re.String(), ErrNoMatch)
	}
	return re.ReplaceAll(content, []byte(replacement)), nil
}
