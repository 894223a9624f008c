package comments

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
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

const repoConfig = `
promotionPaths:
  - sourcePath: "workspace/"
    promotionPrs:
      - targetDescription: "lab and staging"
        targetPaths: ["clusters/lab/c1/", "clusters/staging/c1/"]
  - sourcePath: "dev/[^/]*/"
    promotionPrs:
      - targetPaths: ["prod/eu/", "prod/us/"]
`

// samplePlan has a plain entry, a fan-in entry with a duplicate, skips and
// an entry already in sync.
func samplePlan(t *testing.T) []Planned {
	cfg, err := config.LoadRepoConfig("telefonistka.yaml", []byte(repoConfig))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := config.LoadComponentConfig("c", []byte("promotionTargetBlockList: ['us/', 'staging']\n"))
	p := plan.Compute(plan.Input{
		Config:       cfg,
		ChangedFiles: []string{"workspace/nginx/a", "workspace/redis/a", "dev/a/nginx/x", "dev/b/nginx/x", "dev/b/redis/x"},
		Components: plan.ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
			if strings.HasSuffix(path, "redis") {
				return block, nil
			}
			return nil, nil
		}),
	})
	var out []Planned
	for i := range p.Entries {
		e := &p.Entries[i]
		title, _ := prtext.Title(e.ComponentNames(), e.TargetDescription)
		pl := Planned{Entry: e, Title: title}
		if i == 0 {
			pl.DifferingDuplicates = e.Duplicates[:1]
		} else {
			pl.AlreadyInSync = true
		}
		out = append(out, pl)
	}
	return out
}

func TestBuiltinGolden(t *testing.T) {
	r := Builtin()
	failed := []Failure{{Key: "workspace/>b/", Error: "creating the tree: 422 Unprocessable\nEntity"}, {Key: "a/>b/", Error: "boom ```"}}
	findings := []config.Finding{
		{File: "telefonistka.yaml", Line: 3, Column: 5, Severity: config.SeverityError, Key: "promotionPaths[0].sourcePath", Message: "sourcePath must not be empty"},
		{File: "telefonistka.yaml", Line: 9, Column: 1, Severity: config.SeverityWarning, Key: "x", Message: "unknown key"},
	}
	cases := map[string]func() (string, error){
		"dry-run":             func() (string, error) { return r.DryRun(samplePlan(t)) },
		"dry-run-empty":       func() (string, error) { return r.DryRun(nil) },
		"auto-merge":          func() (string, error) { return r.AutoMerge(42) },
		"promotion-failed":    func() (string, error) { return r.PromotionFailed(failed) },
		"cycle-guard":         func() (string, error) { return r.CycleGuard(20, 20) },
		"too-large-pr":        func() (string, error) { return r.TooLargePR(3000) },
		"config-error":        func() (string, error) { return r.ConfigError(findings) },
		"superseded-pr":       func() (string, error) { return r.Superseded(77) },
		"superseded-original": func() (string, error) { return r.SupersededOriginal(78) },
		"in-sync-pr":          func() (string, error) { return r.InSync() },
		"auto-approve-failed": func() (string, error) { return r.AutoApproveFailed("approver credentials are not configured") },
		"auto-merge-failed":   func() (string, error) { return r.AutoMergeFailed(43, "Pull Request is not mergeable") },
		"foreign-push-pr":     func() (string, error) { return r.ForeignPush("0123456789abcdef0123456789abcdef01234567") },
	}
	for name, render := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := render()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, "<!-- telefonistka_tag -->\n") {
				t.Errorf("comment does not start with the marker: %q", got)
			}
			checkGolden(t, filepath.Join("testdata", name+".golden"), got)
		})
	}
	t.Run("config error equals config.ErrorComment", func(t *testing.T) {
		got, _ := r.ConfigError(findings)
		if got != config.ErrorComment(findings) {
			t.Errorf("the two renderings differ:\n%s\n%s", got, config.ErrorComment(findings))
		}
	})
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	// An override in the original's style, using only the original's data.
	original := `{{define "dryRunMsg"}}{{range $key, $value := .}}{{$key}} from {{$value.Metadata.SourcePath}}:
{{range $target, $source := $value.ComputedSyncPaths}}{{$source}} -> {{$target}}
{{end}}{{range $comp, $skips := $value.Metadata.PerComponentSkippedTargetPaths}}skip {{$comp}} {{$skips}}
{{end}}{{end}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "dry-run-pr-comment.gotmpl"), []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auto-merge-comment.gotmpl"), []byte(`{{define "autoMerge"}}merging #{{.prNumber}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.DryRun(samplePlan(t))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/override-dry-run.golden", got)
	if got, _ := r.AutoMerge(7); got != Marker+"merging #7" {
		t.Errorf("auto-merge override = %q", got)
	}
	// Files without an override fall back to the built-in templates.
	builtin, _ := Builtin().CycleGuard(20, 20)
	if got, _ := r.CycleGuard(20, 20); got != builtin {
		t.Errorf("missing override did not fall back: %q", got)
	}
	if len(r.Overridden) != 2 {
		t.Errorf("Overridden = %q", r.Overridden)
	}
	if _, err := New(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("a missing directory must fall back to the built-ins: %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "in-sync-pr-comment.gotmpl"), []byte(`{{define "inSyncPr"}}{{.Oops`), 0o644)
	if _, err := New(bad); err == nil {
		t.Error("a broken override was accepted")
	}
	wrong := t.TempDir()
	os.WriteFile(filepath.Join(wrong, "in-sync-pr-comment.gotmpl"), []byte(`{{define "somethingElse"}}x{{end}}`), 0o644)
	// A file that does not define its template is a mistake to report, not
	// to hide behind the built-in.
	if _, err := New(wrong); err == nil || !strings.Contains(err.Error(), `does not define "inSyncPr"`) {
		t.Errorf("an override defining another name must be refused, got %v", err)
	}
}
