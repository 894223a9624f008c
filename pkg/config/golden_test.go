package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with the golden file, or rewrites it with -update.
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
		t.Errorf("%s differs from the output (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestRepoConfigGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/repo/*.yaml")
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			cfg, findings := ParseRepoConfig("telefonistka.yaml", data)
			var b strings.Builder
			writeFindings(&b, findings)
			b.WriteString("# config\n")
			dumpRepoConfig(&b, cfg)
			checkGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", b.String())
		})
	}
}

func TestComponentConfigGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/component/*.yaml")
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			cfg, findings := ParseComponentConfig("app/nginx/telefonistka.yaml", data)
			var b strings.Builder
			writeFindings(&b, findings)
			b.WriteString("# config\n")
			fmt.Fprintf(&b, "block: %s\nallow: %s\ndisableArgoCDDiff: %v\n",
				regexList(cfg.PromotionTargetBlockList), regexList(cfg.PromotionTargetAllowList), cfg.DisableArgoCDDiff)
			checkGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", b.String())
		})
	}
}

func writeFindings(b *strings.Builder, findings []Finding) {
	b.WriteString("# findings\n")
	for _, f := range findings {
		b.WriteString(f.String() + "\n")
	}
}

func dumpRepoConfig(b *strings.Builder, c *RepoConfig) {
	fmt.Fprintf(b, "policy: %s\ndryRunMode: %v\nautoApprove: %v\nlabels: %q\n", c.PromotionPrPolicy, c.DryRunMode, c.AutoApprovePromotionPrs, c.PromotionLabels)
	for _, k := range c.ToggleCommitStatusKeys() {
		fmt.Fprintf(b, "toggle %q -> %q\n", k, c.ToggleCommitStatus[k])
	}
	for _, w := range c.WebhookEndpointRegexs {
		fmt.Fprintf(b, "webhook %q -> %q\n", w.Expression, w.Replacements)
	}
	fmt.Fprintf(b, "skipTLS: %v\n", c.WhProxtSkipTLSVerifyUpstream)
	if c.PromotionTrackerComment {
		b.WriteString("promotionTrackerComment: true\n")
	}
	a := c.ArgoCD
	sync := "<nil>"
	if a.AllowSyncFromBranchPathRegex != nil {
		sync = a.AllowSyncFromBranchPathRegex.String()
	}
	fmt.Fprintf(b, "argocd: diff=%v autoMergeNoDiff=%v syncRegex=%s shaLabel=%v tempApps=%v\n",
		a.CommentDiffOnPR, a.AutoMergeNoDiffPRs, sync, a.UseSHALabelForAppDiscovery, a.CreateTempAppObjectFromNewApps)
	for _, f := range c.PromotionPaths {
		fmt.Fprintf(b, "flow[%d] sourcePath=%q depth=%d prHasLabels=%q autoMerge=%v\n", f.Index, f.SourcePath, f.ComponentPathExtraDepth, f.PrHasLabels, f.AutoMerge)
		for i, pr := range f.PromotionPrs {
			fmt.Fprintf(b, "  pr[%d] targets=%q raw=%q description=%q legacy=%v\n", i, pr.TargetPaths, pr.RawTargetPaths, pr.TargetDescription, pr.Legacy)
		}
	}
}

func regexList(list []*regexp.Regexp) string {
	s := make([]string, len(list))
	for i, re := range list {
		s[i] = re.String()
	}
	sort.Strings(s)
	return fmt.Sprintf("%q", s)
}
