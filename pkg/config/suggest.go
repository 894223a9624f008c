package config

import "strings"

// correctSpelling maps keys the original misspelled to the correctly
// spelled alias suggestions should name.
var correctSpelling = map[string]string{"promtionPRlables": "promotionPrLabels"}

// suggestKey returns the known key closest to key (ignoring case, counting
// insertions, deletions, substitutions and swaps of adjacent letters), or ""
// when none is close: at most 1 edit for keys of up to 4 letters, 2 up to 9,
// 3 beyond. Ties go to the earlier known key. A misspelled original key is
// suggested as its correctly spelled alias.
func suggestKey(key string, known []string) string {
	lower := strings.ToLower(key)
	best, bestDist := "", maxSuggestDistance(len(lower))+1
	for _, k := range known {
		if d := editDistance(lower, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if alias, ok := correctSpelling[best]; ok {
		return alias
	}
	return best
}

func maxSuggestDistance(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 9:
		return 2
	}
	return 3
}

// editDistance is the optimal string alignment distance between a and b
// (bytes; keys are ASCII).
func editDistance(a, b string) int {
	// prev2, prev and cur are three rows of the dynamic programming table.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
