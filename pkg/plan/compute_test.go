package plan

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
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

func mustConfig(t testing.TB, yaml string) *config.RepoConfig {
	t.Helper()
	cfg, err := config.LoadRepoConfig("telefonistka.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// componentFiles serves component configurations from YAML texts; the text
// "READ-ERROR" simulates a failed read.
func componentFiles(files map[string]string) ComponentConfigFunc {
	return func(path string) (*config.ComponentConfig, error) {
		text, ok := files[path]
		if !ok {
			return nil, nil
		}
		if text == "READ-ERROR" {
			return nil, errors.New("connection reset")
		}
		return config.LoadComponentConfig(path+"/telefonistka.yaml", []byte(text))
	}
}

func dumpPlan(p *Plan) string {
	var b strings.Builder
	for _, e := range p.Entries {
		fmt.Fprintf(&b, "entry %s\n", e.Key)
		fmt.Fprintf(&b, "  flow=%d autoMerge=%v description=%q sourceLabel=%q\n", e.FlowIndex, e.AutoMerge, e.TargetDescription, e.SourceLabel())
		fmt.Fprintf(&b, "  targets=%q raw=%q labels=%q\n", e.Targets, e.RawTargets, e.Labels)
		for _, c := range e.Components {
			fmt.Fprintf(&b, "  component %s + %s\n", c.SourceDir, c.Name)
		}
		for _, s := range e.Sync {
			fmt.Fprintf(&b, "  sync %s -> %s\n", s.Source(), s.Target())
		}
		for _, s := range e.Skipped {
			fmt.Fprintf(&b, "  skipped %s -> %s\n", s.Source(), s.Target())
		}
		for _, d := range e.Duplicates {
			fmt.Fprintf(&b, "  %s\n", d.Note())
		}
		if ss := e.SkipSet(); len(ss) > 0 {
			fmt.Fprintf(&b, "  skipSet=%q\n", ss)
		}
	}
	for _, ce := range p.ComponentErrors {
		fmt.Fprintf(&b, "component error %s\n", ce.Error())
	}
	for _, f := range p.IgnoredFiles {
		fmt.Fprintf(&b, "ignored file %q\n", f)
	}
	if b.Len() == 0 {
		return "empty plan\n"
	}
	return b.String()
}

const chainConfig = `
promotionPaths:
  - sourcePath: "workspace/"
    conditions: {autoMerge: true}
    promotionPrs:
      - targetDescription: "lab and staging"
        targetPaths: ["clusters/staging/c1", "clusters/lab/c1/"]
  - sourcePath: "clusters/staging/c1/"
    promotionPrs:
      - targetPaths: ["clusters/prod/eu-1/"]
      - targetPaths: ["clusters/prod/us-1/"]
promtionPRlables: ["gitops"]
promotionPrLabels: ["auto", "gitops"]
`

func TestComputeGolden(t *testing.T) {
	tests := []struct {
		name       string
		config     string
		files      []string
		labels     []string
		components map[string]string
	}{
		{name: "chain-first-stage", config: chainConfig, files: []string{"workspace/nginx/values.yaml", "workspace/redis/a/b.yaml", "workspace/nginx/deploy.yaml"}},
		{name: "chain-second-stage", config: chainConfig, files: []string{"clusters/staging/c1/nginx/values.yaml", "clusters/lab/c1/nginx/values.yaml"}},
		{name: "file-directly-in-source", config: chainConfig, files: []string{"workspace/README.md", "README.md", "other/x/y"}},
		{name: "block-and-allow", config: chainConfig,
			files: []string{"clusters/staging/c1/nginx/a", "clusters/staging/c1/redis/a", "clusters/staging/c1/web/a"},
			components: map[string]string{
				"clusters/staging/c1/nginx": "promotionTargetBlockList: ['prod/us-']\n",
				"clusters/staging/c1/redis": "promotionTargetAllowList: ['eu-1']\npromotionTargetBlockList: ['eu-']\n",
			}},
		{name: "skip-set", config: `
promotionPaths:
  - sourcePath: src/
    promotionPrs: [{targetPaths: [a/, b/, c/]}]
`, files: []string{"src/x/f", "src/y/f", "src/z/f"}, components: map[string]string{
			"src/x": "promotionTargetBlockList: ['^a/', '^b/']\n",
			"src/y": "promotionTargetBlockList: ['^c/']\n",
			"src/z": "promotionTargetBlockList: ['^b/']\n",
		}},
		{name: "component-errors-fail-closed", config: chainConfig,
			files: []string{"workspace/nginx/a", "workspace/redis/a", "workspace/web/a"},
			components: map[string]string{
				"workspace/nginx": "promotionTargetBlockList: ['(']\n",
				"workspace/redis": "READ-ERROR",
			}},
		{name: "label-fast-path", labels: []string{"hotfix"}, config: labelConfig, files: []string{"staging/nginx/a"}},
		{name: "label-slow-path", labels: []string{"other"}, config: labelConfig, files: []string{"staging/nginx/a"}},
		{name: "regex-fan-in", config: `
promotionPaths:
  - sourcePath: "dev/[^/]*/"
    conditions: {autoMerge: true}
    promotionPrs: [{targetPaths: ["prod/eu/", "prod/us/"]}]
`, files: []string{"dev/us-east-5/nginx/a", "dev/us-east-4/nginx/a", "dev/us-east-4/redis/a", "dev/eu-1/nginx/x"}},
		{name: "component-depth", config: `
promotionPaths:
  - sourcePath: apps/
    componentPathExtraDepth: 2
    promotionPrs: [{targetPaths: [prod/]}]
`, files: []string{"apps/teamA/ns1/nginx/a.yaml", "apps/teamA/ns1/nginx/sub/b.yaml", "apps/teamA/ns1/short.yaml", "apps/teamB/ns2/redis/x"}},
		{name: "flow-order-first-wins", config: `
promotionPaths:
  - sourcePath: "env/special/"
    promotionPrs: [{targetPaths: [special-prod/]}]
  - sourcePath: "env/[^/]*/"
    promotionPrs: [{targetPaths: [prod/]}]
`, files: []string{"env/special/nginx/a", "env/normal/nginx/a"}},
		{name: "flow-order-across-prefixes", config: `
promotionPaths:
  - sourcePath: "a/x/special/"
    conditions: {prHasLabels: [never]}
    promotionPrs: [{targetPaths: [never/]}]
  - sourcePath: "(a|b)/x/"
    promotionPrs: [{targetPaths: [first/]}]
  - sourcePath: "a/x/"
    promotionPrs: [{targetPaths: [second/]}]
  - sourcePath: "a/"
    promotionPrs: [{targetPaths: [third/]}]
`, files: []string{"a/x/special/f", "a/x/c/f", "b/x/d/f", "a/y/f"}},
		{name: "rename-both-names", config: chainConfig, files: []string{"workspace/old-name/values.yaml", "workspace/new-name/values.yaml"}},
		{name: "unsafe-paths-ignored", config: chainConfig, files: []string{"workspace/../etc/x/y", "/workspace/nginx/a", "workspace//nginx/a", "workspace/./nginx/a", "workspace/ok/a"}},
		{name: "legacy-and-modern", config: `
promotionPaths:
  - sourcePath: a
    promotionPrs: [{targetPaths: [b]}]
    targetPaths: [[c, d], [b/]]
`, files: []string{"a/x/f"}},
		{name: "no-config-flows", config: "dryRunMode: true\n", files: []string{"a/b/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(Input{
				Config:       mustConfig(t, tt.config),
				ChangedFiles: tt.files,
				Labels:       tt.labels,
				Components:   componentFiles(tt.components),
			})
			checkGolden(t, "testdata/compute/"+tt.name+".golden", dumpPlan(p))
		})
	}
}

const labelConfig = `
promotionPaths:
  - sourcePath: "staging/"
    conditions:
      prHasLabels: [hotfix, urgent]
      autoMerge: true
    promotionPrs: [{targetPaths: [prod/eu/, prod/us/]}]
  - sourcePath: "staging/"
    promotionPrs:
      - targetPaths: [prod/eu/]
      - targetPaths: [prod/us/]
`
