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
// <file>:<line>:<column>: <severity>: <key path>: <message>. A finding
// about a whole file (Line 0, such as a missing file) has no position.
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", f.where(), f.Severity, f.Key, f.Message)
}

// CommentLine formats the finding as the configuration-error comment lists
// it: <file>:<line>:<column>: <key path>: <message>.
func (f Finding) CommentLine() string {
	return fmt.Sprintf("%s: %s: %s", f.where(), f.Key, f.Message)
}

func (f Finding) where() string {
	if f.Line == 0 {
		return f.File
	}
	return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
}

// MissingRepoFile is the warning about a repository without a root
// telefonistka.yaml: the bot does nothing there.
func MissingRepoFile() Finding {
	return Finding{File: RepoFileName, Severity: SeverityWarning, Key: RootKey,
		Message: "the file does not exist, so the bot promotes nothing in this repository"}
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

// MaxFileBytes is the largest configuration file Telefonistka reads: GitHub's
// contents API serves files up to 1 MB inline, and a configuration that
// large is a mistake anyway.
const MaxFileBytes = 1 << 20

// CheckFileSize returns a *Error (a configuration error, reported on the PR
// and never retried) when a configuration file of size bytes is over
// MaxFileBytes, else nil.
func CheckFileSize(file string, size int) error {
	if size <= MaxFileBytes {
		return nil
	}
	return FileError(file, fmt.Sprintf("the file is %d bytes, over the limit of %d bytes (1 MiB) for a configuration file", size, MaxFileBytes))
}

// FileError is a configuration error about file as a whole (it cannot be
// read as a configuration file: too large, a directory of that name),
// reported on the PR like any other and never retried.
func FileError(file, message string) *Error {
	return &Error{File: file, Findings: []Finding{{File: file, Severity: SeverityError, Key: RootKey, Message: message}}}
}
