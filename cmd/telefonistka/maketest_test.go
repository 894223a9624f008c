package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// fakeGo stands in for the go command in scripts/test.sh: in a module
// directory named "good" vet and test pass, in "bad" vet fails and one of
// two packages fails, in "broken" the build fails before any package.
const fakeGo = `#!/usr/bin/env bash
mod=$(basename "$PWD")
case "$1 $mod" in
"vet good") exit 0 ;;
"vet bad") echo "bad/x.go:1: vet says no" >&2; exit 1 ;;
"test good") printf 'ok  \texample.com/good/a\t0.1s\n?   \texample.com/good/b\t[no test files]\nok  \texample.com/good/c\t0.2s\n'; exit 0 ;;
"test bad") printf -- '--- FAIL: TestX (0.00s)\nFAIL\nFAIL\texample.com/bad/a\t0.1s\nok  \texample.com/bad/b\t0.1s\nFAIL\n'; exit 1 ;;
"test broken") echo "go: cannot find main module" >&2; exit 1 ;;
esac
`

// make test prints what it checks and closes with what passed and failed
// ("total: N passed, N failed"), running every step even after a failure.
func TestMakeTestSummary(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	dir := t.TempDir()
	goBin := filepath.Join(dir, "go")
	if err := os.WriteFile(goBin, []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, m := range []string{"good", "bad", "broken"} {
		p := filepath.Join(dir, m)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		mods = append(mods, p)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	tally := filepath.Join(dir, "results.txt")
	env := append(os.Environ(), "GO="+goBin, "TALLY="+tally, "FUZZTIME=8s")
	var out []byte
	for _, step := range [][]string{
		append([]string{"vet"}, mods[:2]...),
		append([]string{"unit"}, mods...),
		{"record", "deploy", "pass", "helm charts and the deploy module"},
		{"record", "fuzz", "pass", "pkg/config FuzzParseRepoConfig"},
		{"summary"},
	} {
		cmd := exec.Command("bash", append([]string{script}, step...)...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		out = append(out, b...)
		if want := step[0] == "vet" || step[0] == "unit" || step[0] == "summary"; want != (err != nil) {
			t.Errorf("%v: err %v, want a failure: %v", step, err, want)
		}
	}
	got := regexp.MustCompile(regexp.QuoteMeta(dir)+`/?`).ReplaceAllString(string(out), "TMP/")
	checkGolden(t, "make-test-summary.golden", got)
}
