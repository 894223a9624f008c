package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity tells whether a finding makes the configuration unusable.
type Severity string

const (
	// SeverityError marks a configuration error: nothing is promoted.
	SeverityError Severity = "error"
	// SeverityWarning marks a problem that does not change run-time behaviour.
	SeverityWarning Severity = "warning"
)

// RootKey is the key path of findings about the whole document.
const RootKey = "(root)"

// Finding is one problem in a configuration file.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	// Key is the key path, e.g. promotionPaths[0].sourcePath.
	Key     string `json:"key"`
	Message string `json:"message"`
}

// String formats the finding as `telefonistka validate` prints it:
// <file>:<line>:<column>: <severity>: <key path>: <message>.
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s: %s", f.File, f.Line, f.Column, f.Severity, f.Key, f.Message)
}

// CommentLine formats the finding as the configuration-error comment lists
// it: <file>:<line>:<column>: <key path>: <message>.
func (f Finding) CommentLine() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Column, f.Key, f.Message)
}

// HasErrors reports whether any finding is an error.
func HasErrors(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == SeverityError })
}

// Errors returns the error findings, in order.
func Errors(findings []Finding) []Finding {
	var out []Finding
	for _, f := range findings {
		if f.Severity == SeverityError {
			out = append(out, f)
		}
	}
	return out
}

// SortFindings orders findings by file, line, column, key and message.
func SortFindings(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Key, b.Key),
			strings.Compare(a.Message, b.Message),
		)
	})
}

// Error is returned by the Load functions when a file has error findings.
// Findings holds every finding of the file, warnings included.
type Error struct {
	File     string
	Findings []Finding
}

func (e *Error) Error() string {
	errs := Errors(e.Findings)
	if len(errs) == 0 {
		return fmt.Sprintf("invalid configuration in %s", e.File)
	}
	first := errs[0]
	msg := fmt.Sprintf("invalid configuration: %s", first.CommentLine())
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	return msg
}
