package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The demo runs the whole system (emulator, ingress, planner, promoter and
// the rest on an embedded NATS) and its output is what a newcomer reads
// first, so it is checked against a golden file.
func TestDemoPromotesThroughEveryStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every service")
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := demo(ctx, demoOptions{repoDir: filepath.Join("..", "..", "examples", "gitops-repo"), dataDir: t.TempDir(), timeout: 90 * time.Second}, &out)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	got := normalizeDemo(out.String())
	path := filepath.Join("testdata", "demo.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The two prod PRs are opened concurrently, so their numbers and the
	// order of their lines vary: compare the lines, not their order.
	if sortedLines(got) != sortedLines(string(want)) {
		t.Fatalf("demo output differs from %s:\n%s", path, got)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

var (
	demoPorts   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	demoTimes   = regexp.MustCompile(`(?m)^ *\d+\.\ds  `)
	demoLogPath = regexp.MustCompile(`Logs +\S+`)
	demoRepoDir = regexp.MustCompile(`from \S+\)`)
	demoPRs     = regexp.MustCompile(`#[2-9]\b`)
)

// normalizeDemo removes what changes from run to run: ports, timings, paths.
// The order in which PRs are first seen within one poll is not fixed either,
// so the timed lines keep their content but not their timing.
func normalizeDemo(s string) string {
	s = demoPorts.ReplaceAllString(s, "127.0.0.1:PORT")
	s = demoTimes.ReplaceAllString(s, "  T  ")
	s = demoLogPath.ReplaceAllString(s, "Logs  LOG")
	s = demoPRs.ReplaceAllString(s, "#N")
	return demoRepoDir.ReplaceAllString(s, "from DIR)")
}
