package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// fanRepo is a repository with one flow, source/ -> n target groups
// (target-0/ ... target-n-1/), and one component, source/app, of 10 files.
func fanRepo(n int, policy string) map[string]string {
	var groups strings.Builder
	for i := range n {
		fmt.Fprintf(&groups, "      - targetPaths: [target-%d/]\n", i)
	}
	repo := map[string]string{
		"telefonistka.yaml": "promotionPrPolicy: " + policy + "\npromotionPaths:\n  - sourcePath: source/\n    promotionPrs:\n" + groups.String(),
	}
	for i := range 10 {
		repo["source/app/f"+itoa(i)+".yaml"] = "value: " + itoa(i) + "\n"
	}
	return repo
}

// mergeAndCount merges a change of source/app that opens n promotion PRs
// and returns the GitHub calls and writes from the merge to the run's end.
func mergeAndCount(b *testing.B, h *Harness, i, n int) (calls, writes int64) {
	b.Helper()
	before := h.GitHub.Counters()
	_, merge := h.MergeChange("change-"+itoa(i), Change{"source/app/f0.yaml": Set("value: changed " + itoa(i) + "\n")})
	run := h.WaitRun(merge, runTimeout)
	opened := 0
	for _, o := range run.Outcomes {
		if o == events.OutcomeOpened {
			opened++
		}
	}
	if run.State != githubapi.StateSuccess || opened != n {
		b.Fatalf("run: %+v, want %d PRs opened", run, n)
	}
	return callsSince(before, h.GitHub.Counters())
}

// BenchmarkCallsPerMerge counts the GitHub calls and writes of one merge
// that opens N promotion PRs (perChange), planner and promoter together
// from the merge webhook to the origin PR's final status. The repository
// and component configuration, the file list and the trees are read once
// per merge; each PR costs its tree, commit, ref, PR and issue update.
func BenchmarkCallsPerMerge(b *testing.B) {
	for _, n := range []int{1, 2, 5, 10} {
		b.Run(itoa(n)+"PRs", func(b *testing.B) {
			h := Start(b, Options{RepoFiles: fanRepo(n, "perChange")})
			// A first merge reads the configuration files; later ones find
			// them cached by blob.
			first, _ := mergeAndCount(b, h, -1, n)
			var total, writes int64
			for i := range b.N {
				c, w := mergeAndCount(b, h, i, n)
				total, writes = total+c, writes+w
			}
			b.ReportMetric(float64(total)/float64(b.N), "calls/merge")
			b.ReportMetric(float64(writes)/float64(b.N), "writes/merge")
			b.ReportMetric(float64(first), "calls-first-merge")
			b.ReportMetric(float64(3+6*n), "goal-calls")
		})
	}
}

// BenchmarkChecksOnPromotionPR counts the calls drift makes when the
// promotion PR opens (its pull_request opened delivery): the same merges
// with and without drift running, the difference being drift's.
func BenchmarkChecksOnPromotionPR(b *testing.B) {
	count := func(b *testing.B, services []string) float64 {
		h := Start(b, Options{RepoFiles: fanRepo(1, "perChange"), Services: services})
		var total int64
		for i := range b.N + 1 {
			n := h.OpenChange("change-"+itoa(i), Change{"source/app/f0.yaml": Set("value: changed " + itoa(i) + "\n")})
			h.WaitSettled(runTimeout) // drift's check of the change PR itself is not counted
			before := h.GitHub.Counters()
			merge := h.Merge(n)
			h.WaitRun(merge, runTimeout)
			h.WaitSettled(runTimeout)
			c, _ := callsSince(before, h.GitHub.Counters())
			if testing.Verbose() && i == b.N {
				b.Logf("%v: calls of the last merge: %v", services, diffCounters(before, h.GitHub.Counters()))
			}
			if i > 0 { // the first merge reads the configuration files
				total += c
			}
		}
		return float64(total) / float64(b.N)
	}
	without := count(b, []string{"planner", "promoter", "ingress"})
	with := count(b, []string{"planner", "promoter", "drift", "ingress"})
	b.ReportMetric(with, "calls/merge-with-checks")
	b.ReportMetric(with-without, "check-calls/PR")
}

// diffCounters is the emulator's counters that moved between two snapshots.
func diffCounters(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
