package cli

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

const exampleRepo = "../../../examples/gitops-repo"

// copyExample copies the sample GitOps repository into a temporary directory.
func copyExample(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(exampleRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(exampleRepo, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type run struct {
	code           int
	stdout, stderr string
}

func runPlanCmd(args ...string) run {
	var out, errOut bytes.Buffer
	code := Plan(context.Background(), args, &out, &errOut)
	return run{code, out.String(), errOut.String()}
}

func runValidateCmd(args ...string) run {
	var out, errOut bytes.Buffer
	code := Validate(context.Background(), args, &out, &errOut)
	return run{code, out.String(), errOut.String()}
}

func TestPlanWorktree(t *testing.T) {
	repo := copyExample(t)
	write(t, repo, "workspace/nginx/deployment.yaml", "changed: true\n")
	write(t, repo, "workspace/nginx/extra.yaml", "new: file\n")
	os.Remove(filepath.Join(repo, "clusters/lab/c1/redis/service.yaml"))
	tests := []struct {
		name string
		args []string
	}{
		{"plan-text", []string{"--repo", repo, "--files", "workspace/nginx/deployment.yaml,workspace/nginx/extra.yaml", "--files", "workspace/redis/service.yaml"}},
		{"plan-text-show-changes", []string{"--repo", repo, "--files", "workspace/nginx/deployment.yaml", "--files", "workspace/redis/service.yaml", "--show-changes"}},
		{"plan-json", []string{"--repo", repo, "--json", "--files", "workspace/nginx/deployment.yaml", "--files", "clusters/staging/c1/redis/statefulset.yaml", "--files", "clusters/staging/c1/nginx/service.yaml"}},
		{"plan-json-show-changes", []string{"--repo", repo, "--json", "--show-changes", "--files", "workspace/nginx/deployment.yaml,workspace/redis/service.yaml"}},
		{"plan-json-empty", []string{"--repo", repo, "--json", "--files", "README.md"}},
		{"plan-text-empty", []string{"--repo", repo, "--files", "README.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runPlanCmd(tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			checkGolden(t, tt.name, r.stdout)
		})
	}
}

func TestPlanErrors(t *testing.T) {
	repo := copyExample(t)
	tests := []struct {
		name      string
		setup     func(dir string)
		args      []string
		code      int
		stderrHas string
		stdoutHas string
	}{
		{name: "no files or range", args: []string{"--repo", repo}, code: 2, stderrHas: "give either --files or --range"},
		{name: "both files and range", args: []string{"--repo", repo, "--files", "a", "--range", "a..b"}, code: 2},
		{name: "unknown flag", args: []string{"--nope"}, code: 2},
		{name: "positional argument", args: []string{"--files", "a", "extra"}, code: 2, stderrHas: "unexpected arguments: extra"},
		{name: "bad range", args: []string{"--repo", repo, "--range", "main"}, code: 2, stderrHas: "--range must be BASE..HEAD"},
		{name: "help", args: []string{"-h"}, code: 0, stdoutHas: "Usage:"},
		{name: "missing repo dir", args: []string{"--repo", filepath.Join(repo, "nope"), "--files", "a/b/c"}, code: 1},
		{name: "not a git repo", args: []string{"--repo", repo, "--range", "a..b"}, code: 1, stderrHas: "opening the git repository"},
		{name: "configuration error", args: []string{"--repo", repo, "--files", "workspace/nginx/a"}, code: 1,
			setup:     func(dir string) { write(t, dir, "telefonistka.yaml", "promotionPaths:\n  - sourcePath: /abs\n") },
			stderrHas: "telefonistka.yaml:2:17: error: promotionPaths[0].sourcePath: sourcePath must be relative"},
		{name: "YAML syntax error where it is", args: []string{"--repo", repo, "--files", "workspace/nginx/a"}, code: 1,
			setup: func(dir string) {
				write(t, dir, "telefonistka.yaml", "promotionPaths:\n  - sourcePath: \"workspace/\"\n    promotionPrs:\n      - targetPaths: [\"clusters/lab/c1/\"\n  - sourcePath: \"clusters/staging/\"\n")
			},
			stderrHas: `telefonistka.yaml:4:22: error: (root): invalid YAML: this "[" is never closed`},
		{name: "component error fails closed", args: []string{"--repo", repo, "--files", "workspace/nginx/a,workspace/redis/a"}, code: 1,
			setup: func(dir string) {
				write(t, dir, "workspace/redis/telefonistka.yaml", "promotionTargetBlockList: ['(']\n")
			},
			stderrHas: "workspace/redis/telefonistka.yaml:1:28: error: promotionTargetBlockList[0]: invalid regular expression",
			stdoutHas: "workspace/nginx ➡️  clusters/lab/c1/nginx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(repo)
				defer func() { copyBack(t, repo) }()
			}
			r := runPlanCmd(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderrHas) || !strings.Contains(r.stdout, tt.stdoutHas) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", r.code, tt.code, r.stdout, tt.stdoutHas, r.stderr, tt.stderrHas)
			}
		})
	}
}

// copyBack restores the files a test case changed.
func copyBack(t *testing.T, repo string) {
	for _, rel := range []string{"telefonistka.yaml", "workspace/redis/telefonistka.yaml"} {
		data, err := os.ReadFile(filepath.Join(exampleRepo, rel))
		if err != nil {
			t.Fatal(err)
		}
		write(t, repo, rel, string(data))
	}
}

func TestPlanRange(t *testing.T) {
	dir := copyExample(t)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	commit := func(msg string) string {
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	base := commit("base")
	// Rename redis to cache, change nginx; the working tree then differs
	// again, which --range must ignore (it reads HEAD).
	if err := os.Rename(filepath.Join(dir, "workspace/redis"), filepath.Join(dir, "workspace/cache")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "workspace/nginx/deployment.yaml", "changed: true\n")
	head := commit("head")
	write(t, dir, "telefonistka.yaml", "not: [valid\n")

	r := runPlanCmd("--repo", dir, "--range", base+".."+head, "--json", "--show-changes")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	checkGolden(t, "plan-range-json", r.stdout)
}

func TestValidate(t *testing.T) {
	// The sample repository asks for Argo CD diffs: clean where argodiff
	// has an Argo CD, one warning where it has none.
	t.Setenv("ARGOCD_TOKEN", "")
	t.Setenv("ARGOCD_SERVER_ADDR", "")
	if r := runValidateCmd("--repo", exampleRepo); r.code != 0 || !strings.HasSuffix(r.stdout, "Checked telefonistka.yaml and 4 component files: 1 warning.\n") ||
		!strings.Contains(r.stdout, "argocd.commentDiffonPR") {
		t.Errorf("the sample repository without Argo CD: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv("ARGOCD_SERVER_ADDR", "argocd:443")
	if r := runValidateCmd("--repo", exampleRepo); r.code != 0 || r.stdout != "Checked telefonistka.yaml and 4 component files: no problems found.\n" {
		t.Errorf("the sample repository does not validate cleanly: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv("ARGOCD_SERVER_ADDR", "")
	dir := copyExample(t)
	write(t, dir, "telefonistka.yaml", "promotionPaths:\n  - sourcePath: ../up\n    promotionPrs: [{targetPaths: [a/]}]\npromtionPrLables: [x]\n")
	write(t, dir, "workspace/redis/telefonistka.yaml", "promotionTargetAllowList: []\ndisableArgoCDDiff: maybe\n")
	write(t, dir, ".git/telefonistka.yaml", "ignored: [\n")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"validate-text", []string{"--repo", dir}, 1},
		{"validate-json", []string{"--repo", dir, "--json"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runValidateCmd(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			checkGolden(t, tt.name, r.stdout)
		})
	}

	// A YAML syntax error is reported where it is: the "[" never closed.
	syntaxErr := t.TempDir()
	write(t, syntaxErr, "telefonistka.yaml", "promotionPaths:\n  - sourcePath: \"workspace/\"\n    promotionPrs:\n      - targetPaths: [\"clusters/lab/c1/\"\n  - sourcePath: \"clusters/staging/\"\n")
	if r := runValidateCmd("--repo", syntaxErr); r.code != 1 || !strings.HasPrefix(r.stdout, `telefonistka.yaml:4:22: error: (root): invalid YAML: this "[" is never closed`) {
		t.Errorf("syntax error: exit %d, stdout %q", r.code, r.stdout)
	}

	warnOnly := t.TempDir()
	write(t, warnOnly, "telefonistka.yaml", "unknownKey: 1\n")
	if r := runValidateCmd("--repo", warnOnly); r.code != 0 {
		t.Errorf("warnings alone: exit %d, want 0", r.code)
	}
	if r := runValidateCmd("--repo", warnOnly, "--strict"); r.code != 1 {
		t.Errorf("warnings with --strict: exit %d, want 1", r.code)
	}
	if r := runValidateCmd("--repo", warnOnly, "--json", "--strict"); r.code != 1 || !strings.Contains(r.stdout, `"severity": "warning"`) {
		t.Errorf("json strict: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := runValidateCmd("--repo", filepath.Join(warnOnly, "missing")); r.code != 2 {
		t.Errorf("missing directory: exit %d, want 2", r.code)
	}
	// A repository without telefonistka.yaml: the bot would do nothing.
	empty := t.TempDir()
	if r := runValidateCmd("--repo", empty, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"message": "the file does not exist`) {
		t.Errorf("empty repository: exit %d, stdout %q", r.code, r.stdout)
	}
	r := runValidateCmd("--repo", empty)
	if r.code != 0 {
		t.Errorf("empty repository: exit %d", r.code)
	}
	checkGolden(t, "validate-missing-repo-file", r.stdout)
	if r := runValidateCmd("stray"); r.code != 2 {
		t.Errorf("stray argument: exit %d, want 2", r.code)
	}
}

// --files takes paths as people type them; a path that cannot be inside
// the repository is a usage error, not a silently ignored file.
func TestPlanFilesAreNormalised(t *testing.T) {
	repo := copyExample(t)
	want := runPlanCmd("--repo", repo, "--files", "workspace/nginx/deployment.yaml")
	if want.code != 0 || want.stderr != "" {
		t.Fatalf("plain path: exit %d, stderr %q", want.code, want.stderr)
	}
	abs, err := filepath.Abs(filepath.Join(repo, "workspace/nginx/deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"./workspace/nginx/deployment.yaml", "workspace//nginx/./deployment.yaml", abs} {
		if r := runPlanCmd("--repo", repo, "--files", f); r != want {
			t.Errorf("--files %s: exit %d, stderr %q, stdout:\n%s", f, r.code, r.stderr, r.stdout)
		}
	}
	for _, f := range []string{"../elsewhere/a.yaml", "/etc/passwd", "."} {
		r := runPlanCmd("--repo", repo, "--files", f)
		if r.code != 2 || !strings.Contains(r.stderr, "not") || !strings.Contains(r.stderr, "inside the repository") {
			t.Errorf("--files %s: exit %d (want 2), stderr %q", f, r.code, r.stderr)
		}
	}
}

func TestPlanReportsWhatTheBotWouldDo(t *testing.T) {
	repo := copyExample(t)
	tests := []struct {
		name, config string
		files        []string
		stderr       string
	}{
		// A mistyped component directory is not "already in sync".
		{name: "plan-text-missing", files: []string{"workspace/ngnix/deployment.yaml"}},
		// redis blocks prod us-1: that group opens no PR.
		{name: "plan-text-skipped", files: []string{"clusters/staging/c1/redis/statefulset.yaml"}},
		// validate's warnings (a misspelled key changes what is promoted)
		// and dryRunMode.
		{name: "plan-text-dry-run-warnings", files: []string{"workspace/nginx/deployment.yaml"},
			config: "dryRunMode: true\npromotionPaths:\n  - sourcePath: workspace/\n    condition:\n      autoMerge: true\n    promotionPrs:\n      - targetPaths: [clusters/lab/c1/]\n",
			stderr: "telefonistka.yaml:4:5: warning: promotionPaths[0].condition: unknown key \"condition\" is ignored; did you mean `conditions`?\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.config != "" {
				write(t, repo, "telefonistka.yaml", tt.config)
				defer copyBack(t, repo)
			}
			r := runPlanCmd(append([]string{"--repo", repo}, "--files", strings.Join(tt.files, ","))...)
			if r.code != 0 || r.stderr != tt.stderr {
				t.Fatalf("exit %d, stderr %q (want %q)", r.code, r.stderr, tt.stderr)
			}
			checkGolden(t, tt.name, r.stdout)
		})
	}

	if err := os.Remove(filepath.Join(repo, "telefonistka.yaml")); err != nil {
		t.Fatal(err)
	}
	r := runPlanCmd("--repo", repo, "--files", "workspace/nginx/deployment.yaml")
	if r.code != 0 || r.stdout != "No promotions.\n" || !strings.Contains(r.stderr, "telefonistka.yaml: warning: (root): the file does not exist") {
		t.Errorf("without telefonistka.yaml: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestValidateWarnsAboutArgoCDWithoutConnection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "telefonistka.yaml"), []byte("argocd:\n  commentDiffonPR: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ARGOCD_SERVER_ADDR", "")
	t.Setenv("ARGOCD_TOKEN", "")
	var out, errOut bytes.Buffer
	if code := Validate(context.Background(), []string{"--repo", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "warning: argocd.commentDiffonPR: Argo CD diffs need the argodiff service") {
		t.Fatalf("exit %d, output:\n%s%s", code, out.String(), errOut.String())
	}
	t.Setenv("ARGOCD_SERVER_ADDR", "argocd.example.com:443")
	out.Reset()
	if code := Validate(context.Background(), []string{"--repo", dir}, &out, &errOut); code != 0 || strings.Contains(out.String(), "commentDiffonPR") {
		t.Fatalf("with a connection configured there is no warning; exit %d, output:\n%s", code, out.String())
	}
}
