package config

import (
	"strings"
)

// CommentMarker starts every comment the bot writes, so later runs can find
// (and minimise) them.
const CommentMarker = "<!-- telefonistka_tag -->\n"

// ErrorComment renders the configuration-error PR comment: the marker, the
// line `Failed to get configuration`, then a fenced block with one
// <file>:<line>:<column>: <key path>: <message> line per error finding
// (every finding when none is an error).
func ErrorComment(findings []Finding) string {
	list := Errors(findings)
	if len(list) == 0 {
		list = findings
	}
	lines := make([]string, len(list))
	for i, f := range list {
		lines[i] = f.CommentLine()
	}
	body := strings.Join(lines, "\n")
	fence := Fence(body)
	var b strings.Builder
	b.WriteString(CommentMarker)
	b.WriteString("Failed to get configuration\n")
	b.WriteString(fence + "\n")
	b.WriteString(body)
	b.WriteString("\n" + fence + "\n")
	return b.String()
}

// Fence returns a run of backticks longer than any run inside text (at
// least three), so text can be fenced safely in Markdown.
func Fence(text string) string {
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
