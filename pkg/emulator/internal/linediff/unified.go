package linediff

import (
	"fmt"
	"strings"
)

// opKind tells whether a line of an edit script is kept, deleted or inserted.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

type op struct {
	kind opKind
	line string
	a, b int // line numbers (0-based) in the old and new text at this point
}

func script(a, b []string) []op {
	var ops []op
	i, j := 0, 0
	emitUntil := func(ei, ej int) {
		for ; i < ei; i++ {
			ops = append(ops, op{opDelete, a[i], i, j})
		}
		for ; j < ej; j++ {
			ops = append(ops, op{opInsert, b[j], i, j})
		}
	}
	for _, m := range Matches(a, b) {
		emitUntil(m.I, m.J)
		ops = append(ops, op{opEqual, a[i], i, j})
		i++
		j++
	}
	emitUntil(len(a), len(b))
	return ops
}

// Stats counts the lines added and deleted between two texts.
func Stats(oldText, newText string) (additions, deletions int) {
	for _, o := range script(Lines(oldText), Lines(newText)) {
		switch o.kind {
		case opInsert:
			additions++
		case opDelete:
			deletions++
		}
	}
	return additions, deletions
}

// Unified renders the hunks of a unified diff (without file headers, as GitHub's `patch`
// field shows them) with the given number of context lines, and counts the changed lines.
func Unified(oldText, newText string, context int) (patch string, additions, deletions int) {
	ops := script(Lines(oldText), Lines(newText))
	var sb strings.Builder
	for start := 0; start < len(ops); {
		// Find the next change.
		first := start
		for first < len(ops) && ops[first].kind == opEqual {
			first++
		}
		if first == len(ops) {
			break
		}
		// Extend the hunk while changes are within 2*context lines of each other.
		last := first
		for k := first; k < len(ops); k++ {
			if ops[k].kind != opEqual {
				last = k
				continue
			}
			if k-last > 2*context {
				break
			}
		}
		lo := max(first-context, start)
		hi := min(last+context+1, len(ops))
		writeHunk(&sb, ops[lo:hi], &additions, &deletions)
		start = hi
	}
	return sb.String(), additions, deletions
}

func writeHunk(sb *strings.Builder, ops []op, additions, deletions *int) {
	oldCount, newCount := 0, 0
	for _, o := range ops {
		if o.kind != opInsert {
			oldCount++
		}
		if o.kind != opDelete {
			newCount++
		}
	}
	oldStart, newStart := ops[0].a+1, ops[0].b+1
	if oldCount == 0 {
		oldStart--
	}
	if newCount == 0 {
		newStart--
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(oldStart, oldCount), hunkRange(newStart, newCount))
	for _, o := range ops {
		switch o.kind {
		case opInsert:
			*additions++
		case opDelete:
			*deletions++
		}
		sb.WriteByte(byte(o.kind))
		sb.WriteString(strings.TrimSuffix(o.line, "\n"))
		sb.WriteByte('\n')
		if !strings.HasSuffix(o.line, "\n") {
			sb.WriteString("\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, count int) string {
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
