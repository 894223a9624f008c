// Package prtext renders the text of promotion PRs: branch names, titles,
// bodies (history, notes, metadata block) and commit messages.
package prtext

import (
	"crypto/sha1" //nolint:gosec // SPEC-mandated branch-name hash, not a security use
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

const branchPrefix = "promotions/"

// PerChangeBranch is the perChange branch name (the original's scheme):
// promotions/<origin PR>-<origin head ref, "/"->"-", first 200 runes>-<first
// 12 hex of sha1(sorted targets joined by "_")>. Targets are given as
// configured (plan.Group.RawTargets).
func PerChangeBranch(originPR int, originRef string, targets []string) string {
	ref := firstRunes(strings.ReplaceAll(originRef, "/", "-"), 200)
	return branchPrefix + strconv.Itoa(originPR) + "-" + ref + "-" + sha1Hex(strings.Join(targets, "_"))[:12]
}

// PerChangeBranches names the branches of one event's entries (in plan-key
// order): when names collide, the later ones get -2, -3, … appended.
func PerChangeBranches(originPR int, originRef string, targets [][]string) []string {
	out := make([]string, len(targets))
	used := map[string]int{}
	for i, t := range targets {
		name := PerChangeBranch(originPR, originRef, t)
		used[name]++
		if n := used[name]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		out[i] = name
	}
	return out
}

// SupersedeBranch is the group branch of a promotion group:
// promotions/group-<slug of sourcePath, max 100 runes>-<first 12 hex of
// sha1(plan key)>.
func SupersedeBranch(sourcePath, planKey string) string {
	return branchPrefix + "group-" + Slug(sourcePath, 100) + "-" + sha1Hex(planKey)[:12]
}

// SupersedeFallbackBranch is used when someone else pushed to the group
// branch: the group branch name + "-<first 7 hex of the merge commit>".
func SupersedeFallbackBranch(groupBranch, mergeCommit string) string {
	return groupBranch + "-" + firstRunes(mergeCommit, 7)
}

// Slug replaces each run of characters outside [A-Za-z0-9._-] with one "-",
// then trims "-" and "." from both ends and keeps at most max runes. Runs of
// dots, which git refuses in ref names, become one "-" too.
func Slug(s string, max int) string {
	var b strings.Builder
	pendingDash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if c == '.' {
			ok = (i+1 >= len(s) || s[i+1] != '.') && (i == 0 || s[i-1] != '.')
		}
		if !ok {
			pendingDash = true
			continue
		}
		if pendingDash {
			b.WriteByte('-')
			pendingDash = false
		}
		b.WriteByte(c)
	}
	if pendingDash {
		b.WriteByte('-')
	}
	trim := func(v string) string { return strings.Trim(v, "-.") }
	return trim(firstRunes(trim(b.String()), max))
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s)) //nolint:gosec // SPEC fixes sha1 for promotion branch names, not a security use
	return hex.EncodeToString(sum[:])
}

// firstRunes returns the first n runes of s.
func firstRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
