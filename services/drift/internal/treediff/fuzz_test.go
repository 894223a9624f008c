package treediff

import (
	"strings"
	"testing"
)

// FuzzUnified checks on arbitrary texts (file contents are untrusted) that
// the hunks apply back and respect the context limit.
func FuzzUnified(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n")
	f.Add("", "x")
	f.Add("x", "x\n")
	f.Add("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n")
	f.Add("same\r\nline\r\n", "same\nline\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		hunks := Unified(a, b, ContextLines)
		got, err := applyPatch(a, hunks)
		if err != nil {
			t.Fatalf("%v\n%s", err, strings.Join(hunks, "\n"))
		}
		if got != b {
			t.Fatalf("patch gives %q, want %q", got, b)
		}
		if err := checkContext(hunks, ContextLines); err != nil {
			t.Fatal(err)
		}
	})
}
