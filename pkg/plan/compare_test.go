package plan

import (
	"strings"
	"testing"
)

func FuzzCompareJoined(f *testing.F) {
	f.Add("prod/", "nginx", "prod/eu/", "x")
	f.Add("a", "bc", "ab", "c")
	f.Add("", "", "a", "")
	f.Fuzz(func(t *testing.T, a1, a2, b1, b2 string) {
		want := strings.Compare(a1+a2, b1+b2)
		if got := compareJoined(a1, a2, b1, b2); got != want {
			t.Fatalf("compareJoined(%q,%q,%q,%q) = %d, want %d", a1, a2, b1, b2, got, want)
		}
	})
}
