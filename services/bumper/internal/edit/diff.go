package edit

import (
	"fmt"
	"strings"
)

const (
	diffContext  = 3
	diffMaxLines = 80
)

// Diff renders the change from before to after for a log, in unified form:
// one hunk from the first to the last changed line with a little context.
// Long hunks are cut. It returns "" when nothing changed.
func Diff(name string, before, after []byte) string {
	if string(before) == string(after) {
		return ""
	}
	a, b := splitLines(string(before)), splitLines(string(after))
	prefix := 0
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	from := max(0, prefix-diffContext)
	aEnd := min(len(a), len(a)-suffix+diffContext)
	bEnd := min(len(b), len(b)-suffix+diffContext)

	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", name, name)
	fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(from, aEnd-from), hunkRange(from, bEnd-from))
	lines := 0
	write := func(mark byte, s string) {
		lines++
		if lines > diffMaxLines {
			return
		}
		out.WriteByte(mark)
		out.WriteString(s)
		out.WriteByte('\n')
	}
	for _, l := range a[from:prefix] {
		write(' ', l)
	}
	for _, l := range a[prefix : len(a)-suffix] {
		write('-', l)
	}
	for _, l := range b[prefix : len(b)-suffix] {
		write('+', l)
	}
	for _, l := range a[len(a)-suffix : aEnd] {
		write(' ', l)
	}
	if lines > diffMaxLines {
		fmt.Fprintf(&out, "... %d more lines\n", lines-diffMaxLines)
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s into lines without their line breaks; a missing final
// line break is shown as in diff(1).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	lines[len(lines)-1] += "\n\\ No newline at end of file"
	return lines
}
