// Package linediff computes line diffs, unified patches and three-way line merges of text.
package linediff

import "strings"

// maxEditDistance bounds the Myers search; beyond it the differing middle of the two
// inputs is reported as one replaced block, which is still a correct (if not minimal) diff.
const maxEditDistance = 1000

// Lines splits text into lines that keep their trailing "\n"; the last line lacks it when
// the text does not end with a newline.
func Lines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Match pairs line A[I] with the equal line B[J].
type Match struct{ I, J int }

// Matches returns a longest-effort common subsequence of a and b as increasing pairs.
func Matches(a, b []string) []Match {
	ids := map[string]int{}
	intern := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)

	var out []Match
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		out = append(out, Match{pre, pre})
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	for _, m := range myers(x[pre:len(x)-suf], y[pre:len(y)-suf]) {
		out = append(out, Match{m.I + pre, m.J + pre})
	}
	for k := suf; k > 0; k-- {
		out = append(out, Match{len(x) - k, len(y) - k})
	}
	return out
}

// myers runs the greedy O((N+M)D) algorithm, keeping each round's frontier to walk back.
func myers(a, b []int) []Match {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return nil
	}
	limit := n + m
	if limit > maxEditDistance {
		limit = maxEditDistance
	}
	offset := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	found := -1
	for d := 0; d <= limit && found < 0; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
		snap := make([]int, 2*d+1)
		copy(snap, v[offset-d:offset+d+1])
		trace = append(trace, snap)
	}
	if found < 0 {
		return nil
	}
	var rev []Match
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		startX := px
		if pk == k-1 {
			startX = px + 1
		}
		for x > startX {
			x--
			y--
			rev = append(rev, Match{x, y})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, Match{x, y})
	}
	out := make([]Match, len(rev))
	for i, mt := range rev {
		out[len(rev)-1-i] = mt
	}
	return out
}
