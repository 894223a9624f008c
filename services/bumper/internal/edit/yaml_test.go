package edit

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func readInput(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "yaml", name+".in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reencoded are the golden cases whose edit cannot be made in the text, so
// the documents are written again by the encoder.
var reencoded = map[string]bool{
	"null-parent": true, "empty-flow-parent": true, "empty-file": true, "replace-block-scalar": true,
}

func TestYAMLGolden(t *testing.T) {
	cases := []struct {
		name, input, address, value string
	}{
		{"top-level-key", "values", ".version", "1.5.0"},
		{"nested-key-single-quoted", "values", ".image.tag", "v1.5.0"},
		{"single-quote-in-value", "values", ".image.tag", "it's"},
		{"list-element-by-field", "values", `.db.[] | select(.name == "postgres").image.tag`, "16.2"},
		{"list-element-by-index", "values", ".db[0].image.tag", "8.4"},
		{"missing-key-in-existing-map", "values", ".image.digest", "sha256:abc"},
		{"missing-nested-keys-at-root", "values", ".monitoring.alerts.enabled", "yes"},
		{"missing-key-in-list-element", "values", `.db[] | select(.name == "mysql").image.digest`, "d1"},
		{"number-like-value", "values", ".version", "16.2"},
		{"bool-like-value", "values", ".image.pullPolicy", "true"},
		{"hex-like-value", "values", ".version", "0x1F"},
		{"null-like-value", "values", ".version", "null"},
		{"timestamp-like-value", "values", ".version", "2026-11-21"},
		{"value-needing-escapes", "values", ".version", "a: b # not a comment \"q\" \\ \t end\n"},
		{"value-with-leading-space", "values", ".version", " 1.5.0"},
		{"flow-mapping-value", "values", ".resources.limits.cpu", "1"},
		{"flow-mapping-value-with-comma", "values", ".resources.limits.memory", "2Gi,3Gi"},
		{"flow-mapping-new-key", "values", ".resources.limits.gpu", "1"},
		{"several-nodes", "values", ".db[].image.tag", "latest"},
		{"compact-sequence-insert", "compact", ".metadata.annotations.owner", "team-a"},
		{"compact-sequence-append-root", "compact", ".immutable", "true"},
		{"multi-document", "multi", `select(.kind == "Deployment").spec.image`, "app:1.1"},
		{"multi-document-every", "multi", ".spec.version", "2"},
		{"anchored-scalar", "anchors", ".defaults.tag", "v2"},
		{"null-parent", "nullparent", ".image.tag", "v1"},
		{"empty-flow-parent", "nullparent", ".other.tag", "v1"},
		{"crlf", "crlf", ".b.c", "new"},
		{"crlf-insert", "crlf", ".b.d", "new"},
		{"empty-file", "empty", ".a.b", "x"},
		{"after-block-scalar", "block", ".tag", "new"},
		{"replace-block-scalar", "block", ".notes", "short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := readInput(t, c.input)
			out, spliced, err := editYAML(in, c.address, c.value)
			if err != nil {
				t.Fatal(err)
			}
			if spliced == reencoded[c.name] {
				t.Errorf("edited in the text: %v, want %v", spliced, !reencoded[c.name])
			}
			golden(t, filepath.Join("yaml", c.name+".golden"), out)
			again, err := YAML(out, c.address, c.value)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("a second run changed the file again:\n%s", again)
			}
		})
	}
}

func TestYAMLErrors(t *testing.T) {
	values := readInput(t, "values")
	cases := []struct {
		name, content, address, value, want string
		noMatch                             bool
	}{
		{"select matches nothing", string(values), `.db[] | select(.name == "oracle").image.tag`, "1", "selects no node", true},
		{"path through a scalar", string(values), ".version.major", "1", "selects no node", true},
		{"selects a mapping", string(values), ".image", "1", "selects a mapping at image", false},
		{"selects a sequence", string(values), ".db", "1", "selects a sequence at db", false},
		{"selects a key", string(values), ".image | keys | .[0]", "1", "not allowed", false},
		{"computed value", string(values), `"literal"`, "1", "computes", false},
		{"syntax error", string(values), ".image.[", "1", "parsing the address", false},
		{"empty address", string(values), " ", "1", "empty", false},
		{"reads a file", string(values), `.version = load_str("/etc/passwd")`, "1", "load_string", false},
		{"reads the environment", string(values), `.version = env(GITHUB_OAUTH_TOKEN)`, "1", "env", false},
		{"assigns", string(values), `.version = "x"`, "1", "assign", false},
		{"deletes", string(values), `del(.image)`, "1", "delete", false},
		{"evaluates strings", string(values), `eval(".version")`, "1", "eval", false},
		{"invalid input", "a: [1,\n", ".a", "1", "not valid YAML", false},
		{"invalid utf-8 value", string(values), ".version", "\xff", "UTF-8", false},
		{"alias", "a: &x 1\nb: *x\n", ".b", "2", "alias", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := YAML([]byte(c.content), c.address, c.value)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if errors.Is(err, ErrNoMatch) != c.noMatch {
				t.Errorf("errors.Is(err, ErrNoMatch) = %v, want %v", !c.noMatch, c.noMatch)
			}
		})
	}
}

func TestValidateAddress(t *testing.T) {
	for _, ok := range []string{".a", ".a.b[0]", `.db.[] | select(.name == "postgres").image.tag`, `.a | select(has("b")).b`, `(.a, .b).c`, `.. | select(tag == "!!str" and . == "x")`} {
		if err := ValidateAddress(ok); err != nil {
			t.Errorf("ValidateAddress(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".a[", `load("x")`, `.a |= "b"`, `strenv(X)`} {
		if err := ValidateAddress(bad); err == nil {
			t.Errorf("ValidateAddress(%q) accepted", bad)
		}
	}
}
