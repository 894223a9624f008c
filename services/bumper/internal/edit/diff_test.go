package edit

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	values := readInput(t, "values")
	long := func(prefix string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%s%d\n", prefix, i)
		}
		return b.String()
	}
	cases := []struct{ name, before, after string }{
		{"one-line", string(values), strings.Replace(string(values), "version: 1.4.0", "version: 1.5.0", 1)},
		{"insertion", string(values), strings.Replace(string(values), "    pullPolicy: IfNotPresent\n", "    pullPolicy: IfNotPresent\n    digest: abc\n", 1)},
		{"first-and-last-line", "a\nb\nc\nd\ne\nf\ng\nh\n", "A\nb\nc\nd\ne\nf\ng\nH\n"},
		{"new-file", "", "1.0.0\n"},
		{"no-final-newline", "a: 1\nb: 2", "a: 1\nb: 3"},
		{"long", long("old ", 100), long("new ", 100)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden(t, filepath.Join("diff", c.name+".golden"), []byte(Diff("apps/values.yaml", []byte(c.before), []byte(c.after))))
		})
	}
	if d := Diff("x", values, values); d != "" {
		t.Errorf("diff of equal contents: %q", d)
	}
}
