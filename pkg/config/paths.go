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
// trailing "/") cannot be used: empty, absolute, with an empty, "." or ".."
// segment, with a control character (a newline, for one), or with a ".git"
// segment in any case (git's own directory: writing there would change the
// repository's hooks or configuration on every clone that checks it out).
// It returns "" for a usable path.
func CheckRelativePath(p string) string {
	s := strings.TrimRight(p, "/")
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case strings.HasPrefix(s, "/"):
		return "must be relative to the repository root, not absolute"
	case strings.ContainsAny(s, "\\\x00"):
		return "must use \"/\" as separator and contain no NUL or backslash"
	case strings.ContainsFunc(s, isControl):
		return "must not contain control characters (newline, tab, ...)"
	}
	for rest := s; ; {
		seg, tail, more := strings.Cut(rest, "/")
		switch {
		case seg == "":
			return "must not contain an empty path segment (\"//\")"
		case seg == "." || seg == "..":
			return fmt.Sprintf("must not contain a %q segment", seg)
		case isGitDir(seg):
			return fmt.Sprintf("must not contain a %q segment (git's own directory)", seg)
		}
		if !more {
			return ""
		}
		rest = tail
	}
}

// isControl reports a C0 or C1 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// isGitDir reports a segment git treats as its own directory: ".git" in
// any case, also with trailing dots or spaces (Windows drops them) or as
// the short name "git~1".
func isGitDir(seg string) bool {
	s := strings.ToLower(strings.TrimRight(seg, ". "))
	return s == ".git" || s == "git~1"
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
	if strings.ContainsFunc(s, isControl) {
		return "must not contain control characters (newline, tab, ...)"
	}
	for _, seg := range strings.Split(strings.TrimPrefix(s, "^"), "/") {
		switch {
		case seg == "." || seg == "..":
			return fmt.Sprintf("must not contain a %q segment", seg)
		case isGitDir(strings.ReplaceAll(seg, `\.`, ".")):
			return fmt.Sprintf("must not contain a %q segment (git's own directory)", seg)
		}
	}
	return ""
}
