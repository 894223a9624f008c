package argodiff

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/comment"
)

// benchDiffer diffs n components of a PR against the test Argo CD server,
// each with its own application (one Deployment changing).
func benchDiffer(b *testing.B, n, concurrency int) (*differ, *argocdemu.Server, []string) {
	h := newHarness(b)
	changes := map[string]*string{}
	var paths []string
	for i := range n {
		p := fmt.Sprintf("clusters/staging/app%d", i)
		paths = append(paths, p)
		if _, err := h.emu.Push(full, "main", human, "seed", map[string]*string{p + "/deploy.yaml": str(deployment("app", 2))}); err != nil {
			b.Fatal(err)
		}
		changes[p+"/deploy.yaml"] = str(deployment("app", 3))
		a := &v1alpha1.Application{}
		a.Name = fmt.Sprintf("app%d-staging", i)
		a.Annotations = map[string]string{"argocd.argoproj.io/manifest-generate-paths": "."}
		a.Spec.Source = &v1alpha1.ApplicationSource{RepoURL: "https://github.com/acme/gitops", Path: p, TargetRevision: "HEAD"}
		a.Spec.Destination.Namespace = "web"
		h.argo.PutApp(a)
	}
	head := h.push("bench", changes)
	in := h.start(options{cfg: Config{Concurrency: concurrency}})
	api := in.svc.repoAPI(events.Repo{Owner: owner, Name: repoName})
	cfg, err := config.LoadRepoConfig(config.RepoFileName, []byte(repoConfig))
	if err != nil {
		b.Fatal(err)
	}
	d := &differ{s: in.svc, log: testLog(), api: api, cfg: cfg,
		run: prRun{Repo: events.Repo{Owner: owner, Name: repoName}, HeadSHA: head, HeadBranch: "bench", HTMLURL: "https://github.com/acme/gitops"}}
	return d, h.argo, paths
}

// BenchmarkArgoCDCallsPerComponent reports the Argo CD calls of a PR
// with 10 components: per run (listing, settings) and per component.
func BenchmarkArgoCDCallsPerComponent(b *testing.B) {
	d, argo, paths := benchDiffer(b, 10, 8)
	b.ResetTimer()
	for range b.N {
		argo.ResetCounters()
		for _, r := range d.diffAll(context.Background(), paths) {
			if r.block.Result != comment.ResultDiff {
				b.Fatalf("%s: %s %v", r.block.Path, r.block.Result, r.err)
			}
		}
	}
	b.StopTimer()
	calls, perComponent := 0, 0
	for k, v := range argo.Counters() {
		if strings.HasPrefix(k, "refresh/") {
			continue
		}
		calls += v
		if k != "ApplicationService/List" && k != "SettingsService/Get" {
			perComponent += v
		}
	}
	b.ReportMetric(float64(calls), "calls/PR")
	b.ReportMetric(float64(perComponent)/float64(len(paths)), "calls/component")
}

// BenchmarkConcurrency: 5 components whose manifests take Argo CD 1 s to
// render, at ARGOCD_DIFF_CONCURRENCY 1 and 5.
func BenchmarkConcurrency(b *testing.B) {
	for _, c := range []int{1, 5} {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			d, argo, paths := benchDiffer(b, 5, c)
			argo.SetLatency(argocdemu.Latency{Methods: map[string]time.Duration{"ApplicationService/GetManifests": time.Second}})
			b.ResetTimer()
			for range b.N {
				d.diffAll(context.Background(), paths)
			}
		})
	}
}
