package treediff

import (
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	letters := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	tests := []struct {
		name string
		a, b string
		want []string
	}{
		{name: "equal", a: letters, b: letters, want: nil},
		{name: "two distant changes and a missing final newline", a: letters,
			b: strings.Replace(letters, "b\n", "B\n", 1) + "n",
			want: []string{
				"@@ -1,5 +1,5 @@", " a", "-b", "+B", " c", " d", " e",
				"@@ -11,3 +11,4 @@", " k", " l", " m", "+n", `\ No newline at end of file`,
			}},
		{name: "nearby changes share a hunk", a: letters,
			b: strings.Replace(strings.Replace(letters, "c\n", "C\n", 1), "i\n", "I\n", 1),
			want: []string{
				"@@ -1,12 +1,12 @@", " a", " b", "-c", "+C", " d", " e", " f", " g", " h", "-i", "+I", " j", " k", " l",
			}},
		{name: "new content in an empty file", a: "", b: "x\ny\n",
			want: []string{"@@ -0,0 +1,2 @@", "+x", "+y"}},
		{name: "everything removed", a: "x\n", b: "",
			want: []string{"@@ -1 +0,0 @@", "-x"}},
		{name: "newline added at the end", a: "x", b: "x\n",
			want: []string{"@@ -1 +1 @@", "-x", `\ No newline at end of file`, "+x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Unified(tc.a, tc.b, 3)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("Unified:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestUnifiedAppliesBack checks, on random edits, that the hunks are a
// valid patch: applying them to a gives b, with at most ctx context lines
// around changes and hunk headers that match their bodies.
func TestUnifiedAppliesBack(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 500; i++ {
		a := randomText(rng)
		b := mutate(rng, a)
		hunks := Unified(a, b, 3)
		got, err := applyPatch(a, hunks)
		if err != nil {
			t.Fatalf("case %d: %v\na=%q\nb=%q\n%s", i, err, a, b, strings.Join(hunks, "\n"))
		}
		if got != b {
			t.Fatalf("case %d: patch gives %q, want %q\n%s", i, got, b, strings.Join(hunks, "\n"))
		}
		if err := checkContext(hunks, 3); err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, strings.Join(hunks, "\n"))
		}
		if a == b && len(hunks) != 0 {
			t.Fatalf("case %d: equal texts gave hunks", i)
		}
	}
}

func randomText(rng *rand.Rand) string {
	n := rng.Intn(30)
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "line %d\n", rng.Intn(8))
	}
	s := b.String()
	if s != "" && rng.Intn(4) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

func mutate(rng *rand.Rand, s string) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for k := rng.Intn(4); k > 0; k-- {
		switch pos := rng.Intn(len(lines) + 1); rng.Intn(3) {
		case 0:
			lines = append(lines[:pos], append([]string{fmt.Sprintf("new %d\n", rng.Intn(100))}, lines[pos:]...)...)
		case 1:
			if pos < len(lines) {
				lines = append(lines[:pos], lines[pos+1:]...)
			}
		default:
			if pos < len(lines) {
				lines[pos] = fmt.Sprintf("changed %d\n", rng.Intn(100))
			}
		}
	}
	out := strings.Join(lines, "")
	if out != "" && rng.Intn(5) == 0 {
		out = strings.TrimSuffix(out, "\n")
	}
	return out
}

var header = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// applyPatch applies unified-diff hunks to a, checking their headers.
func applyPatch(a string, hunks []string) (string, error) {
	old := strings.SplitAfter(a, "\n")
	if old[len(old)-1] == "" {
		old = old[:len(old)-1]
	}
	var out []string
	pos := 0 // next old line (0-based) not yet copied
	for i := 0; i < len(hunks); {
		m := header.FindStringSubmatch(hunks[i])
		if m == nil {
			return "", fmt.Errorf("line %d is not a hunk header: %q", i, hunks[i])
		}
		oldStart, _ := strconv.Atoi(m[1])
		oldCount := count(m[2])
		newCount := count(m[4])
		from := oldStart - 1
		if oldCount == 0 {
			from = oldStart
		}
		if from < pos {
			return "", fmt.Errorf("hunk %q overlaps the previous one", hunks[i])
		}
		out = append(out, old[pos:from]...)
		pos = from
		i++
		gotOld, gotNew := 0, 0
		for i < len(hunks) && !strings.HasPrefix(hunks[i], "@@") {
			l := hunks[i]
			i++
			noEOL := i < len(hunks) && hunks[i] == `\ No newline at end of file`
			if noEOL {
				i++
			}
			text := l[1:]
			if !noEOL {
				text += "\n"
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(old) || old[pos] != text {
					return "", fmt.Errorf("line %q does not match old line %d", l, pos+1)
				}
				pos++
				gotOld++
				if l[0] == ' ' {
					out = append(out, text)
					gotNew++
				}
			case '+':
				out = append(out, text)
				gotNew++
			default:
				return "", fmt.Errorf("unexpected line %q", l)
			}
		}
		if gotOld != oldCount || gotNew != newCount {
			return "", fmt.Errorf("header %q, body has %d old and %d new lines", m[0], gotOld, gotNew)
		}
	}
	out = append(out, old[pos:]...)
	return strings.Join(out, ""), nil
}

func count(s string) int {
	if s == "" {
		return 1
	}
	n, _ := strconv.Atoi(s)
	return n
}

// checkContext checks that each hunk has at most ctx kept lines before its
// first and after its last change, and at most 2*ctx between changes.
func checkContext(hunks []string, ctx int) error {
	var body []byte
	flush := func() error {
		s := string(body)
		lead := len(s) - len(strings.TrimLeft(s, " "))
		trail := len(s) - len(strings.TrimRight(s, " "))
		if lead > ctx || trail > ctx {
			return fmt.Errorf("hunk %q has %d leading and %d trailing context lines", s, lead, trail)
		}
		for _, run := range strings.FieldsFunc(strings.Trim(s, " "), func(r rune) bool { return r != ' ' }) {
			if len(run) > 2*ctx {
				return fmt.Errorf("hunk %q keeps %d lines between changes", s, len(run))
			}
		}
		return nil
	}
	for _, l := range hunks {
		switch {
		case strings.HasPrefix(l, "@@"):
			if err := flush(); err != nil {
				return err
			}
			body = body[:0]
		case strings.HasPrefix(l, `\`):
		default:
			body = append(body, l[0])
		}
	}
	return flush()
}
