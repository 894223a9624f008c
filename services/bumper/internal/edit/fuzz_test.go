package edit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var fuzzAddresses = []string{
	".version",
	".image.tag",
	".a.b.c",
	`.db.[] | select(.name == "postgres").image.tag`,
	".db[0].image.tag",
	".resources.limits.cpu",
	".spec.version",
	".[0]",
}

// FuzzYAML checks that editing never panics, that an edit of a file that
// parsed gives a file that parses, and that the edit is idempotent: running
// it again on its own output changes nothing.
func FuzzYAML(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "yaml", "*.in.yaml"))
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		for i, v := range []string{"1.2.3", "16.2", "a: b", "it's", "\"x\"\n", ""} {
			f.Add(b, uint8(i), v)
		}
	}
	f.Add([]byte("a: {b: [1, {c: d}], 'e': \"f\"}\n"), uint8(2), "x,y")
	f.Add([]byte("- a\n- b\n"), uint8(7), "z")
	f.Fuzz(func(t *testing.T, content []byte, which uint8, value string) {
		address := fuzzAddresses[int(which)%len(fuzzAddresses)]
		// A hang would otherwise stall the fuzzer silently (yqlib is serialised).
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow: %q %q %q", content, address, value)) })
		defer tm.Stop()
		out, err := YAML(content, address, value)
		if err != nil {
			return
		}
		if _, err := parseDocuments(out); err != nil {
			t.Fatalf("output does not parse: %v\ninput:\n%s\noutput:\n%s", err, content, out)
		}
		again, err := YAML(out, address, value)
		if err != nil {
			t.Fatalf("second edit failed: %v\noutput:\n%s", err, out)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("second edit changed the file\nfirst:\n%s\nsecond:\n%s", out, again)
		}
	})
}
