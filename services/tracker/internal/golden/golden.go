// Package golden compares text people read with the files under a test's
// testdata directory; `go test . -update` rewrites them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Check compares got with testdata/name (or rewrites it with -update).
func Check(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run go test . -update to write it): %v", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test . -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
