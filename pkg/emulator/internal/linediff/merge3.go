package linediff

import (
	"bytes"
	"slices"
	"strings"
)

// IsBinary reports whether data looks binary the way git decides it: a NUL byte in the
// first 8000 bytes.
func IsBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}

// Merge3 merges the changes from base to ours and from base to theirs line by line.
// It reports ok=false when both sides changed the same region differently.
func Merge3(base, ours, theirs string) (merged string, ok bool) {
	o, a, b := Lines(base), Lines(ours), Lines(theirs)
	mapA := matchMap(len(o), Matches(o, a))
	mapB := matchMap(len(o), Matches(o, b))

	var out strings.Builder
	i, ja, jb := 0, 0, 0
	for {
		k := i
		for k < len(o) && (mapA[k] < 0 || mapB[k] < 0) {
			k++
		}
		endA, endB := len(a), len(b)
		if k < len(o) {
			endA, endB = mapA[k], mapB[k]
		}
		chunkO, chunkA, chunkB := o[i:k], a[ja:endA], b[jb:endB]
		switch {
		case slices.Equal(chunkA, chunkO):
			writeLines(&out, chunkB)
		case slices.Equal(chunkB, chunkO), slices.Equal(chunkA, chunkB):
			writeLines(&out, chunkA)
		default:
			return "", false
		}
		if k == len(o) {
			return out.String(), true
		}
		out.WriteString(o[k])
		i, ja, jb = k+1, endA+1, endB+1
	}
}

func matchMap(n int, ms []Match) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = -1
	}
	for _, mt := range ms {
		m[mt.I] = mt.J
	}
	return m
}

func writeLines(sb *strings.Builder, lines []string) {
	for _, l := range lines {
		sb.WriteString(l)
	}
}
