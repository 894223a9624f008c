package config

import (
	"fmt"
	"strings"
)

// CanonicalDir strips every trailing "/" from p and appends exactly one.
// The empty string stays empty.
func CanonicalDir(p string) string {
	s := strings.TrimRight(p, "/")
	if s == "" {
		return ""
	}
	return s + "/"
}

// CheckRelativePath reports why p (a repo-relative path, with or without a
// trailing "/") cannot be used: empty, absolute, or with an empty, "." or
// ".." segment. It returns "" for a usable path.
func CheckRelativePath(p string) string {
	s := strings.TrimRight(p, "/")
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case strings.HasPrefix(s, "/"):
		return "must be relative to the repository root, not absolute"
	case strings.ContainsAny(s, "\\\x00"):
		return "must use \"/\" as separator and contain no NUL or backslash"
	}
	for rest := s; ; {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "":
			return "must not contain an empty path segment (\"//\")"
		case ".", "..":
			return fmt.Sprintf("must not contain a %q segment", seg)
		}
		if !more {
			return ""
		}
		rest = tail
	}
}

// SafeRepoPath reports whether p is a path that stays inside the repository:
// relative, with no empty, "." or ".." segment.
func SafeRepoPath(p string) bool {
	return CheckRelativePath(p) == ""
}

// checkSourcePattern reports why a sourcePath pattern (already stripped of
// trailing "/") cannot be used.
func checkSourcePattern(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "^/"):
		return "must be relative to the repository root, not absolute"
	}
	for _, seg := range strings.Split(strings.TrimPrefix(s, "^"), "/") {
		if seg == "." || seg == ".." {
			return fmt.Sprintf("must not contain a %q segment", seg)
		}
	}
	return ""
}
