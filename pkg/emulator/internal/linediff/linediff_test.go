package linediff

import (
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, old, new, patch string
		adds, dels            int
	}{
		{"identical", "a\nb\n", "a\nb\n", "", 0, 0},
		{"added file", "", "x\ny\n", "@@ -0,0 +1,2 @@\n+x\n+y\n", 2, 0},
		{"removed file", "x\n", "", "@@ -1 +0,0 @@\n-x\n", 0, 1},
		{"one change with context", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n",
			"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n", 1, 1},
		{"two distant hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "ONE\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nTWELVE\n",
			"@@ -1,4 +1,4 @@\n-1\n+ONE\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+TWELVE\n", 2, 2},
		{"missing final newline", "a\nb", "a\nc", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n", 1, 1},
		{"insert in middle", "a\nc\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n a\n+b\n c\n", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			patch, adds, dels := Unified(tt.old, tt.new, 3)
			if patch != tt.patch {
				t.Errorf("patch:\n%s\nwant:\n%s", patch, tt.patch)
			}
			if adds != tt.adds || dels != tt.dels {
				t.Errorf("stats = +%d -%d, want +%d -%d", adds, dels, tt.adds, tt.dels)
			}
			if a, d := Stats(tt.old, tt.new); a != adds || d != dels {
				t.Errorf("Stats = +%d -%d, Unified counted +%d -%d", a, d, adds, dels)
			}
		})
	}
}

func TestMerge3(t *testing.T) {
	base := "a\nb\nc\nd\ne\nf\ng\n"
	tests := []struct {
		name, ours, theirs, want string
		ok                       bool
	}{
		{"only ours", "a\nB\nc\nd\ne\nf\ng\n", base, "a\nB\nc\nd\ne\nf\ng\n", true},
		{"only theirs", base, "a\nb\nc\nd\ne\nF\ng\n", "a\nb\nc\nd\ne\nF\ng\n", true},
		{"disjoint edits", "a\nB\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nF\ng\n", "a\nB\nc\nd\ne\nF\ng\n", true},
		{"same edit both", "a\nX\nc\nd\ne\nf\ng\n", "a\nX\nc\nd\ne\nf\ng\n", "a\nX\nc\nd\ne\nf\ng\n", true},
		{"conflicting edit", "a\nX\nc\nd\ne\nf\ng\n", "a\nY\nc\nd\ne\nf\ng\n", "", false},
		{"append and prepend", "0\n" + base, base + "h\n", "0\n" + base + "h\n", true},
		{"both append differently", base + "h\n", base + "i\n", "", false},
		{"delete vs edit elsewhere", "a\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nf\nG\n", "a\nc\nd\ne\nf\nG\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Merge3(base, tt.ours, tt.theirs)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Merge3 = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIsBinary(t *testing.T) {
	if IsBinary([]byte("plain text\n")) {
		t.Error("text reported binary")
	}
	if !IsBinary([]byte("PNG\x00\x01")) {
		t.Error("NUL byte not reported binary")
	}
}

// apply rebuilds b from a and the matches, proving the matches describe a valid edit.
func apply(a, b []string, ms []Match) (string, bool) {
	pi, pj := -1, -1
	for _, m := range ms {
		if m.I <= pi || m.J <= pj || m.I >= len(a) || m.J >= len(b) || a[m.I] != b[m.J] {
			return "", false
		}
		pi, pj = m.I, m.J
	}
	return strings.Join(b, ""), true
}

func FuzzMatches(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x")
	f.Add("x\nx\nx\n", "x\ny\nx\n")
	f.Fuzz(func(t *testing.T, x, y string) {
		a, b := Lines(x), Lines(y)
		if _, ok := apply(a, b, Matches(a, b)); !ok {
			t.Fatalf("invalid matches for %q -> %q", x, y)
		}
		if got, ok := Merge3(x, y, x); !ok || got != y {
			t.Fatalf("Merge3(base, ours, base) = %q, %v; want ours %q", got, ok, y)
		}
		if got, ok := Merge3(x, x, y); !ok || got != y {
			t.Fatalf("Merge3(base, base, theirs) = %q, %v; want theirs %q", got, ok, y)
		}
		patch, adds, dels := Unified(x, y, 3)
		if (patch == "") != (x == y) {
			t.Fatalf("empty patch %v for equal %v", patch == "", x == y)
		}
		if len(a)-dels+adds != len(b) {
			t.Fatalf("stats +%d -%d do not turn %d lines into %d", adds, dels, len(a), len(b))
		}
	})
}
