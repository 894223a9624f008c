package emulator_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

// `telefonistka github-emulator pr` and `merge` act as a developer against a
// running emulator: the change lands through a PR, with its webhooks.
func TestDeveloperCommands(t *testing.T) {
	e := startEmulator(t, emulator.Options{})
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "deployment.yaml")
	if err := os.WriteFile(local, []byte("replicas: 2\nimage: app:2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := emulator.Main(ctx, args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := run("pr", "--url", e.URL(), "--repo", "acme/gitops", "--as", "alice", "--title", "Bump app",
		"--file", "env/dev/app/deployment.yaml="+local, "--delete", "env/dev/app/service.yaml", "--merge")
	if code != 0 || !strings.HasPrefix(out, "opened #1 https://github.com/acme/gitops/pull/1\nmerged #1 (merge commit ") {
		t.Fatalf("pr --merge: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	pr, err := e.GetPullRequest("acme/gitops", 1)
	if err != nil || !pr.Merged || pr.MergedBy != "alice" || pr.Author != "alice" || pr.Title != "Bump app" {
		t.Fatalf("PR #1 = %+v, %v", pr, err)
	}
	if got, _ := e.ReadFile("acme/gitops", "main", "env/dev/app/deployment.yaml"); got != "replicas: 2\nimage: app:2\n" {
		t.Errorf("main has %q", got)
	}
	if _, err := e.ReadFile("acme/gitops", "main", "env/dev/app/service.yaml"); err == nil {
		t.Error("the deleted file is still on main")
	}
	if err := e.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	merged := 0
	for _, d := range e.Deliveries() {
		if d.Event == "pull_request" && d.Action == "closed" {
			merged++
		}
	}
	if merged != 1 {
		t.Errorf("pull_request closed deliveries = %d, want 1", merged)
	}

	code, out, errOut = run("pr", "--url", e.URL(), "--repo", "acme/gitops", "--as", "alice", "--branch", "second",
		"--file", "env/prod/app/deployment.yaml="+local)
	if code != 0 || out != "opened #2 https://github.com/acme/gitops/pull/2\n" {
		t.Fatalf("pr: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, errOut = run("merge", "--url", e.URL(), "--repo", "acme/gitops", "--as", "bob", "2"); code != 0 || !strings.HasPrefix(out, "merged #2 (merge commit ") {
		t.Fatalf("merge: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if pr, _ := e.GetPullRequest("acme/gitops", 2); pr.MergedBy != "bob" || pr.Head != "second" {
		t.Errorf("PR #2 = %+v", pr)
	}

	if code, _, errOut = run("merge", "--url", e.URL(), "--repo", "acme/gitops", "9"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("merging a missing PR: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = run("pr", "--url", e.URL(), "--repo", "acme/gitops"); code != 2 || !strings.Contains(errOut, "at least one --file") {
		t.Errorf("pr without files: exit %d, stderr %q", code, errOut)
	}
	for _, cmd := range []string{"pr", "merge"} {
		if code, out, errOut := run(cmd, "--help"); code != 0 || !strings.Contains(out, "Usage: telefonistka github-emulator "+cmd) || errOut != "" {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
	}
}
