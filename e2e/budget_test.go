package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// botWriter is how the emulator names the bot token's identity.
const botWriter = "user:" + BotLogin

// budgetLoad is one run of merges against replicas sharing a write budget.
type budgetLoad struct {
	replicas     int
	rate         float64 // GITHUB_WRITE_RATE
	burst        int     // GITHUB_WRITE_BURST
	window       time.Duration
	merges       int
	mergeEvery   time.Duration
	eventTimeout time.Duration
	// slack is how many writes past the budget's own bound the emulator
	// lets through in a window: a turn is taken when the budget gives it,
	// the write arrives later, and on a loaded machine two turns an
	// interval apart can arrive in one window.
	slack int
}

// limit is what the emulator lets through within one window: burst + rate
// × window (what the budget allows), plus slack.
func (l budgetLoad) limit() int { return l.burst + int(l.rate*l.window.Seconds()) + l.slack }

type budgetFigures struct {
	writes       int64 // content-creating calls of the bot
	mostInWindow int
	refused      int64
	elapsed      time.Duration
	p50, p99     time.Duration // merge to promotion PR open
}

func (f budgetFigures) String() string {
	perMinute := float64(f.writes) / f.elapsed.Minutes()
	return fmt.Sprintf("%d writes in %v (%.0f a minute), at most %d in one window, %d refused by the secondary limit; merge to PR p50 %v, p99 %v",
		f.writes, f.elapsed.Round(time.Second), perMinute, f.mostInWindow, f.refused, f.p50.Round(time.Millisecond), f.p99.Round(time.Millisecond))
}

// runBudgetLoad starts ingress, planner and l.replicas promoters with one
// write budget, makes the emulator enforce GitHub's secondary limit at
// exactly what the budget allows, merges l.merges changes that each open a
// promotion PR, and waits for every run.
func runBudgetLoad(t *testing.T, l budgetLoad) budgetFigures {
	t.Helper()
	h := Start(t, Options{
		RepoFiles:    benchRepo(20, 2, "perChange"),
		EventTimeout: l.eventTimeout,
		Env: map[string]string{
			"GITHUB_WRITE_RATE":  fmt.Sprint(l.rate),
			"GITHUB_WRITE_BURST": fmt.Sprint(l.burst),
		},
	})
	for i := 2; i <= l.replicas; i++ {
		h.StartService(fmt.Sprintf("promoter#%d", i))
	}
	h.GitHub.SetSecondaryLimit(l.limit(), l.window)
	h.GitHub.ResetCounters()

	numbers := make([]int, l.merges)
	for i := range numbers {
		numbers[i] = h.OpenChange(fmt.Sprintf("change-%d", i), Change{fmt.Sprintf("source/app/d0/new-%d.yaml", i): Set(fmt.Sprintf("value: %d\n", i))})
	}
	start := time.Now()
	merges := make([]string, l.merges)
	mergedAt := make([]time.Time, l.merges)
	for i, n := range numbers {
		if wait := time.Until(start.Add(time.Duration(i) * l.mergeEvery)); wait > 0 {
			time.Sleep(wait) // pacing the load, not asserting anything
		}
		mergedAt[i] = time.Now()
		merges[i] = h.Merge(n)
	}
	latencies := make([]time.Duration, l.merges)
	for i, merge := range merges {
		run := h.WaitRun(merge, l.eventTimeout*10)
		// (adopted: a refused write was retried and found the PR it had opened)
		if o := run.Outcomes[`source/>target/`]; run.State != githubapi.StateSuccess || (o != events.OutcomeOpened && o != events.OutcomeAdopted) {
			t.Fatalf("run of merge %d: %+v", i, run)
		}
		opened := openedAt(h, run.RunID)
		if opened.IsZero() {
			t.Fatalf("run %s opened no PR", run.RunID)
		}
		latencies[i] = opened.Sub(mergedAt[i])
	}
	elapsed := time.Since(start)
	h.WaitSettled(time.Minute)
	if got := len(h.PromotionPRs()); got != l.merges {
		t.Errorf("%d promotion PRs for %d merges, want one each", got, l.merges)
	}
	var writes int64
	for route, n := range h.GitHub.Counters() {
		if isWrite(route) {
			writes += n
		}
	}
	slices.Sort(latencies)
	return budgetFigures{
		writes:       writes,
		mostInWindow: h.GitHub.MostWritesInWindow()[botWriter],
		refused:      h.GitHub.SecondaryLimited(),
		elapsed:      elapsed,
		p50:          percentile(latencies, 50),
		p99:          percentile(latencies, 99),
	}
}

// isWrite reports whether a counter key ("METHOD /route") is a
// content-creating REST call.
func isWrite(key string) bool {
	if key == "POST /graphql" {
		return false
	}
	for _, m := range []string{"POST ", "PATCH ", "PUT ", "DELETE "} {
		if strings.HasPrefix(key, m) {
			return true
		}
	}
	return false
}

func checkWithinBudget(t *testing.T, l budgetLoad, f budgetFigures) {
	t.Helper()
	if f.refused != 0 {
		t.Errorf("GitHub's secondary limit refused %d writes: the replicas together went over the budget", f.refused)
	}
	if f.mostInWindow > l.limit() {
		t.Errorf("%d writes within %v, over the budget's %d", f.mostInWindow, l.window, l.limit())
	}
}

// TestWriteBudgetHoldsAcrossPromoterReplicas runs four promoter replicas
// through a burst of merges that needs several times the write burst. The
// emulator refuses, as GitHub's secondary limit does, any write over
// burst + rate × window; the budget the replicas share must never let that
// happen. (Scaled: 20 writes a second and a one-second window; make
// bench-write-budget runs GitHub's real 80 a minute for ten minutes.)
func TestWriteBudgetHoldsAcrossPromoterReplicas(t *testing.T) {
	l := budgetLoad{replicas: 4, rate: 20, burst: 10, window: time.Second, merges: 16, eventTimeout: 30 * time.Second, slack: 2}
	f := runBudgetLoad(t, l)
	t.Logf("4 promoter replicas: %s", f)
	checkWithinBudget(t, l, f)
	if f.mostInWindow < l.limit()*3/4 {
		t.Errorf("at most %d writes in a window: the load never reached the budget of %d, so it proves nothing", f.mostInWindow, l.limit())
	}
}

// TestWriteBudgetSoak is make bench-write-budget: with GitHub's own limits
// (80 writes a minute per identity: GITHUB_WRITE_BURST 20 + 60 × 1/s) it
// compares one and four promoter replicas, first under a load within the
// budget (3 minutes each), then busier than the budget allows for
// WRITE_BUDGET_SOAK (e.g. 10m) each, and checks that the secondary limit
// never refused a write.
func TestWriteBudgetSoak(t *testing.T) {
	soak, err := time.ParseDuration(os.Getenv("WRITE_BUDGET_SOAK"))
	if err != nil || soak <= 0 {
		t.Skip("set WRITE_BUDGET_SOAK (e.g. 10m): make bench-write-budget")
	}
	// 8 writes per promotion (planner: 2 statuses; promoter: tree, commit,
	// ref, PR, labels, assignees): the budget sustains 10 merges a minute.
	base := budgetLoad{rate: 1, burst: 20, window: time.Minute, eventTimeout: 5 * time.Minute}
	within := base
	within.mergeEvery = 8 * time.Second // 60 writes a minute
	within.merges = int(3 * time.Minute / within.mergeEvery)
	over := base
	over.mergeEvery = 4 * time.Second // 120 writes a minute, 1.5 times the budget
	over.merges = int(soak / over.mergeEvery)
	for _, l := range []budgetLoad{within, over} {
		for _, replicas := range []int{1, 4} {
			l.replicas = replicas
			f := runBudgetLoad(t, l)
			t.Logf("%d promoter replica(s), %d merges every %v: %s", replicas, l.merges, l.mergeEvery, f)
			checkWithinBudget(t, l, f)
		}
	}
}
