package treediff

import (
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffTimeout bounds the line diff of one file pair; past it the diff is
// still correct, only coarser.
const diffTimeout = 5 * time.Second

// line is one line of an edit script: ' ' kept, '-' removed, '+' added.
type line struct {
	op    byte
	text  string
	noEOL bool // the file's last line, without a newline
}

// Unified returns the hunks of a unified diff from a to b with ctx lines
// of context, without the ---/+++ header: "@@ -l,s +l,s @@" lines
// followed by " ", "-" and "+" lines, and "\ No newline at end of file"
// after a last line that has none. Equal inputs give no lines.
func Unified(a, b string, ctx int) []string {
	script := editScript(a, b)
	var out []string
	for _, h := range hunks(script, ctx) {
		out = append(out, hunkHeader(script, h[0], h[1]))
		for _, l := range script[h[0]:h[1]] {
			out = append(out, string(l.op)+l.text)
			if l.noEOL {
				out = append(out, `\ No newline at end of file`)
			}
		}
	}
	return out
}

// editScript turns the line diff of a and b into one entry per line.
func editScript(a, b string) []line {
	var script []line
	for _, d := range diff.DoWithTimeout(a, b, diffTimeout) {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		lines, noEOL := splitLines(d.Text)
		for i, text := range lines {
			script = append(script, line{op: op, text: text, noEOL: noEOL && i == len(lines)-1})
		}
	}
	return script
}

// hunks groups the changed lines of script into [start, end) ranges with
// up to ctx kept lines around them; changes closer than 2*ctx kept lines
// share a hunk.
func hunks(script []line, ctx int) [][2]int {
	var out [][2]int
	for i := 0; i < len(script); {
		if script[i].op == ' ' {
			i++
			continue
		}
		start := max(0, i-ctx)
		end := i
		for end < len(script) {
			if script[end].op != ' ' {
				end++
				continue
			}
			run := end
			for run < len(script) && script[run].op == ' ' {
				run++
			}
			if run == len(script) || run-end > 2*ctx {
				break
			}
			end = run
		}
		stop := min(len(script), end+ctx)
		out = append(out, [2]int{start, stop})
		i = stop
	}
	return out
}

// hunkHeader is "@@ -<old> +<new> @@" for script[start:end], with GNU
// diff's conventions: a count of 1 is omitted, and an empty side starts at
// the line before.
func hunkHeader(script []line, start, end int) string {
	oldStart, newStart := 1, 1
	for _, l := range script[:start] {
		if l.op != '+' {
			oldStart++
		}
		if l.op != '-' {
			newStart++
		}
	}
	oldCount, newCount := 0, 0
	for _, l := range script[start:end] {
		if l.op != '+' {
			oldCount++
		}
		if l.op != '-' {
			newCount++
		}
	}
	return "@@ -" + rangeOf(oldStart, oldCount) + " +" + rangeOf(newStart, newCount) + " @@"
}

func rangeOf(start, count int) string {
	switch count {
	case 0:
		return strconv.Itoa(start-1) + ",0"
	case 1:
		return strconv.Itoa(start)
	}
	return strconv.Itoa(start) + "," + strconv.Itoa(count)
}
