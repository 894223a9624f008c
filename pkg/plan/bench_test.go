package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// benchInput builds a repository of 100 source directories with 100
// components each (10,000 components), every source directory promoted to
// 5 targets (500 targets in all), and a PR changing two files in every
// component. Every tenth component has a block list.
func benchInput(b *testing.B, regexFlows bool) Input {
	var cfg strings.Builder
	cfg.WriteString("promotionPaths:\n")
	for i := range 100 {
		src := fmt.Sprintf("env/src-%03d/", i)
		if regexFlows {
			src = fmt.Sprintf("env/src-%03d[^/]*/", i)
		}
		fmt.Fprintf(&cfg, "  - sourcePath: %q\n    promotionPrs:\n      - targetPaths: [", src)
		for j := range 5 {
			fmt.Fprintf(&cfg, "%q,", fmt.Sprintf("env/dst-%03d-%d/", i, j))
		}
		cfg.WriteString("]\n")
	}
	var files []string
	for i := range 100 {
		for c := range 100 {
			dir := fmt.Sprintf("env/src-%03d/comp-%03d/", i, c)
			files = append(files, dir+"values.yaml", dir+"templates/deploy.yaml")
		}
	}
	block, err := config.LoadComponentConfig("c", []byte("promotionTargetBlockList: ['dst-...-4/']\n"))
	if err != nil {
		b.Fatal(err)
	}
	return Input{
		Config:       mustConfig(b, cfg.String()),
		ChangedFiles: files,
		Components: ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
			if strings.HasSuffix(path, "0") {
				return block, nil
			}
			return nil, nil
		}),
	}
}

func benchmarkCompute(b *testing.B, regexFlows bool) {
	in := benchInput(b, regexFlows)
	b.ResetTimer()
	var p *Plan
	for b.Loop() {
		p = Compute(in)
	}
	b.StopTimer()
	pairs := 0
	for _, e := range p.Entries {
		pairs += len(e.Sync) + len(e.Skipped)
	}
	if len(p.Entries) != 100 || pairs != 50_000 {
		b.Fatalf("unexpected plan: %d entries, %d pairs", len(p.Entries), pairs)
	}
}

// BenchmarkCompute10kComponents500Targets: goal under 50 ms per plan.
func BenchmarkCompute10kComponents500Targets(b *testing.B) { benchmarkCompute(b, false) }

// BenchmarkCompute10kComponents500TargetsRegexFlows uses regex source
// patterns, which cannot take the literal fast path.
func BenchmarkCompute10kComponents500TargetsRegexFlows(b *testing.B) { benchmarkCompute(b, true) }
