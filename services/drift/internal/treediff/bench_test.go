package treediff

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCompareLargeTree compares 20 pairs without drift and one with
// 500 differing files in a 100,000-entry tree (indexing included).
func BenchmarkCompareLargeTree(b *testing.B) {
	var entries []Entry
	for env := 0; env < 10; env++ {
		for comp := 0; comp < 100; comp++ {
			dir := fmt.Sprintf("env/e%d/c%03d", env, comp)
			entries = append(entries, Entry{Path: dir, Type: TypeTree, SHA: fmt.Sprintf("t%d", comp)})
			for f := 0; f < 100; f++ {
				entries = append(entries, Entry{Path: fmt.Sprintf("%s/f%03d.yaml", dir, f), Type: TypeBlob, Mode: "100644", SHA: fmt.Sprintf("b%d-%d", comp, f)})
			}
		}
	}
	drifted := fmt.Sprintf("env/e9/c%03d", 0)
	for i := range entries {
		if strings.HasPrefix(entries[i].Path, drifted+"/") || entries[i].Path == drifted {
			entries[i].SHA += "x"
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := NewTree(entries)
		for p := 0; p < 20; p++ {
			if Compare(t, fmt.Sprintf("env/e0/c%03d", p+1), fmt.Sprintf("env/e1/c%03d", p+1)) != nil {
				b.Fatal("unexpected drift")
			}
		}
		if d := Compare(t, "env/e0/c000", drifted); d == nil || len(d.Files) != 100 {
			b.Fatal("drift not found")
		}
	}
}

// BenchmarkUnifiedLargeFile diffs a 20,000-line file with 200 scattered
// changes.
func BenchmarkUnifiedLargeFile(b *testing.B) {
	var a, c strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&a, "key%05d: value %d\n", i, i)
		if i%100 == 0 {
			fmt.Fprintf(&c, "key%05d: changed %d\n", i, i)
		} else {
			fmt.Fprintf(&c, "key%05d: value %d\n", i, i)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(Unified(a.String(), c.String(), ContextLines)) == 0 {
			b.Fatal("no hunks")
		}
	}
}
