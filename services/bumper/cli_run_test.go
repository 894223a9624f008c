package bumper

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

const (
	gitopsRepo = "acme/gitops"
	valuesFile = "apps/billing/values.yaml"
	bumpBranch = "artifact_version_bump/acme/billing/" + testSHA
	valuesYAML = "image:\n  tag: v1.4.0 # deployed\n"
)

// startEmulator runs the GitHub emulator with acme/gitops and points the
// environment (GITHUB_URL, a token, no write pacing) at it.
func startEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	if err := em.CreateRepo("acme", "gitops", map[string]string{valuesFile: valuesYAML}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_URL", em.URL())
	t.Setenv("GITHUB_HOST", "")
	t.Setenv("GITHUB_OAUTH_TOKEN", "test-token")
	t.Setenv("GITHUB_APP_ID", "")
	t.Setenv("GITHUB_APP_PRIVATE_KEY_PATH", "")
	t.Setenv("GITHUB_WRITE_RATE", "1000")
	t.Setenv("GITHUB_WRITE_BURST", "1000")
	for _, k := range []string{"TARGET_REPO", "TARGET_FILE", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_ACTOR", "LOG_FORMAT", "LOG_LEVEL"} {
		t.Setenv(k, "")
	}
	return em
}

func runCLI(t *testing.T, cmd string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := CLI(ctx, cmd, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func commonArgs(extra ...string) []string {
	return append([]string{"-t", gitopsRepo, "-f", valuesFile, "-p", "acme/billing", "-s", testSHA, "-a", "octocat"}, extra...)
}

func TestCLIBumpYAMLOpensPR(t *testing.T) {
	em := startEmulator(t)
	code, stdout, stderr := runCLI(t, "bump-yaml", commonArgs("--address", ".image.tag", "-n", "v1.5.0")...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if stdout != "https://github.com/acme/gitops/pull/1\n" {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "Before/After apps/billing/values.yaml:\n") || !strings.Contains(stderr, "-  tag: v1.4.0 # deployed\n+  tag: v1.5.0 # deployed\n") {
		t.Errorf("stderr lacks the diff:\n%s", stderr)
	}
	got, err := em.ReadFile(gitopsRepo, bumpBranch, valuesFile)
	if err != nil || got != "image:\n  tag: v1.5.0 # deployed\n" {
		t.Errorf("branch file %q, %v", got, err)
	}
	prs, err := em.PullRequests(gitopsRepo)
	if err != nil || len(prs) != 1 || prs[0].Title != "acme/billing🚠 Bumping version @ apps/billing/values.yaml" {
		t.Fatalf("PRs %+v, %v", prs, err)
	}

	// Run again: the PR is open, so its URL is printed and nothing written.
	em.ResetCounters()
	code, stdout, stderr = runCLI(t, "bump-yaml", commonArgs("--address", ".image.tag", "-n", "v1.5.0")...)
	if code != ExitOK || stdout != "https://github.com/acme/gitops/pull/1\n" {
		t.Fatalf("second run: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	for key, n := range em.Counters() {
		if !strings.HasPrefix(key, "GET ") {
			t.Errorf("second run called %s %d times", key, n)
		}
	}
}

func TestCLIBumpRegexAndOverwrite(t *testing.T) {
	em := startEmulator(t)
	code, stdout, stderr := runCLI(t, "bump-regex", commonArgs("-r", `tag: v(\d+)\.\d+\.\d+`, "-n", "tag: v${1}.9.9")...)
	if code != ExitOK || !strings.HasSuffix(stdout, "/pull/1\n") {
		t.Fatalf("bump-regex: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if got, _ := em.ReadFile(gitopsRepo, bumpBranch, valuesFile); got != "image:\n  tag: v1.9.9 # deployed\n" {
		t.Errorf("after bump-regex: %q", got)
	}

	local := filepath.Join(t.TempDir(), "version.txt")
	if err := os.WriteFile(local, []byte("2.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	otherSHA := strings.Repeat("1", 40)
	code, stdout, stderr = runCLI(t, "bump-overwrite", "-t", gitopsRepo, "-f", "apps/billing/VERSION", "-p", "acme/billing", "-s", otherSHA, "-c", local)
	if code != ExitOK || !strings.HasSuffix(stdout, "/pull/2\n") {
		t.Fatalf("bump-overwrite: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if got, _ := em.ReadFile(gitopsRepo, "artifact_version_bump/acme/billing/"+otherSHA, "apps/billing/VERSION"); got != "2.0.0\n" {
		t.Errorf("after bump-overwrite: %q", got)
	}
}

// A tag works as --triggering-repo-sha, as it did with the original.
func TestCLITagAsTriggeringSHA(t *testing.T) {
	em := startEmulator(t)
	code, stdout, stderr := runCLI(t, "bump-yaml", "-t", gitopsRepo, "-f", valuesFile, "-p", "acme/billing", "-s", "v1.5.0",
		"--address", ".image.tag", "-n", "v1.5.0")
	if code != ExitOK || !strings.HasSuffix(stdout, "/pull/1\n") {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	got, err := em.ReadFile(gitopsRepo, "artifact_version_bump/acme/billing/v1.5.0", valuesFile)
	if err != nil || got != "image:\n  tag: v1.5.0 # deployed\n" {
		t.Errorf("branch file %q, %v", got, err)
	}
	prs, _ := em.PullRequests(gitopsRepo)
	if len(prs) != 1 || !strings.Contains(prs[0].Body, "acme/billing@v1.5.0") {
		t.Errorf("PRs %+v", prs)
	}
}

func TestCLIUnchanged(t *testing.T) {
	em := startEmulator(t)
	code, stdout, stderr := runCLI(t, "bump-yaml", commonArgs("--address", ".image.tag", "-n", "v1.4.0")...)
	if code != ExitOK || stdout != "No change to apps/billing/values.yaml; not opening a PR.\n" {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if prs, _ := em.PullRequests(gitopsRepo); len(prs) != 0 {
		t.Errorf("PRs %+v", prs)
	}
}

func TestCLIFailuresExit1NamingTheStep(t *testing.T) {
	cases := []struct {
		name, cmd string
		args      []string
		want      string
	}{
		{"regex matches nothing", "bump-regex", commonArgs("-r", "version: .*", "-n", "x"),
			"telefonistka bump-regex: computing the new content of apps/billing/values.yaml: the regex \"version: .*\" matches nothing in the file"},
		{"result is not YAML", "bump-regex", commonArgs("-r", "v1.4.0", "-n", "[v1"),
			"telefonistka bump-regex: checking the new content: the new content of apps/billing/values.yaml is not valid YAML"},
		{"missing target file", "bump-yaml", []string{"-t", gitopsRepo, "-f", "nope.yaml", "-p", "acme/billing", "-s", testSHA, "--address", ".a", "-n", "b"},
			"telefonistka bump-yaml: computing the new content of nope.yaml: nope.yaml does not exist on main"},
		{"missing target repo", "bump-yaml", []string{"-t", "acme/none", "-f", "v.yaml", "-p", "acme/billing", "-s", testSHA, "--address", ".a", "-n", "b"},
			"telefonistka bump-yaml: reading the repository: reading repository acme/none"},
		{"missing local file", "bump-overwrite", commonArgs("-c", "/nonexistent/file"), "telefonistka bump-overwrite: reading --file: open /nonexistent/file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			em := startEmulator(t)
			code, stdout, stderr := runCLI(t, c.cmd, c.args...)
			if code != ExitFailure || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and %q", code, stdout, stderr, c.want)
			}
			if b, _ := em.Branches(gitopsRepo); len(b) != 1 {
				t.Errorf("branches %v", b)
			}
		})
	}
}

func TestCLIWithoutCredentials(t *testing.T) {
	startEmulator(t)
	t.Setenv("GITHUB_OAUTH_TOKEN", "")
	code, _, stderr := runCLI(t, "bump-yaml", commonArgs("--address", ".image.tag", "-n", "v2")...)
	if code != ExitFailure || !strings.Contains(stderr, "telefonistka bump-yaml: authenticating: ") || !strings.Contains(stderr, "GITHUB_OAUTH_TOKEN") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func TestCLIAutoMerge(t *testing.T) {
	em := startEmulator(t)
	em.FailNextMerge()
	code, stdout, stderr := runCLI(t, "bump-yaml", commonArgs("--address", ".image.tag", "-n", "v1.5.0", "--auto-merge")...)
	if code != ExitOK || !strings.HasSuffix(stdout, "/pull/1\n") {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	pr, err := em.GetPullRequest(gitopsRepo, 1)
	if err != nil || !pr.Merged {
		t.Fatalf("PR %+v, %v", pr, err)
	}
	if got, _ := em.ReadFile(gitopsRepo, "main", valuesFile); got != "image:\n  tag: v1.5.0 # deployed\n" {
		t.Errorf("main after the merge: %q", got)
	}
}
