package drift

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// gauges returns the three open-PR gauges of slug.
func gauges(s *Service, slug string) [3]float64 {
	return [3]float64{
		testutil.ToFloat64(s.metrics.open.WithLabelValues(slug)),
		testutil.ToFloat64(s.metrics.promotion.WithLabelValues(slug)),
		testutil.ToFloat64(s.metrics.pending.WithLabelValues(slug)),
	}
}

// seedPRs opens n PRs on repo (the first two labelled promotion), sets a
// pending telefonistka status on the heads of the first three, and opens
// and closes one more PR that must not count.
func seedPRs(t *testing.T, h *harness, repo string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		branch := fmt.Sprintf("b%d", i)
		sha, err := h.emu.Push(repo, branch, human, "change", map[string]*string{fmt.Sprintf("f%d", i): emulator.Content("x\n")})
		if err != nil {
			t.Fatal(err)
		}
		spec := emulator.PullRequestSpec{Author: human, Title: branch, Head: branch}
		if i < 2 {
			spec.Labels = []string{"promotion"}
		}
		if _, err := h.emu.OpenPullRequest(repo, spec); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if err := h.emu.SetStatus(repo, sha, botLogin, "pending", githubapi.StatusContext, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.emu.Push(repo, "closed", human, "change", map[string]*string{"c": emulator.Content("x\n")}); err != nil {
		t.Fatal(err)
	}
	closed, err := h.emu.OpenPullRequest(repo, emulator.PullRequestSpec{Author: human, Title: "closed", Head: "closed", Labels: []string{"promotion"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.emu.ClosePullRequest(repo, closed, human); err != nil {
		t.Fatal(err)
	}
}

func TestPRMetricsWithTokenCountSeenRepos(t *testing.T) {
	h := newHarness(t, fixture())
	if err := h.emu.CreateRepo(owner, "unseen", map[string]string{"README.md": "x\n"}); err != nil {
		t.Fatal(err)
	}
	// 103 open PRs: more than one page.
	seedPRs(t, h, full, 103)
	svc, _ := h.build(options{})
	ctx := context.Background()
	if err := h.emu.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	// Fresh pending statuses do not count.
	if err := svc.refreshPRMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(svc.metrics.open); n != 1 {
		t.Fatalf("%d repos counted, want only the one seen in webhooks", n)
	}
	if got := gauges(svc, full); got != [3]float64{103, 2, 0} {
		t.Fatalf("gauges = %v, want 103 open, 2 promotion, 0 stale pending", got)
	}
	svc.now = func() time.Time { return time.Now().Add(PendingAfter + time.Minute) }
	if err := svc.refreshPRMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	if got := gauges(svc, full); got != [3]float64{103, 2, 3} {
		t.Fatalf("gauges 21 minutes later = %v, want 3 pending", got)
	}
}

func TestPRMetricsWithAppCountEveryInstalledRepo(t *testing.T) {
	h := newHarness(t, fixture())
	if err := h.emu.CreateRepo("globex", "deploy", map[string]string{"README.md": "x\n"}); err != nil {
		t.Fatal(err)
	}
	seedPRs(t, h, "globex/deploy", 1)
	svc, _ := h.build(options{app: true})
	if err := svc.refreshPRMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Counted before reading a gauge (reading one creates its series).
	if n := testutil.CollectAndCount(svc.metrics.open); n != 2 {
		t.Fatalf("%d repos counted, want both installations' repos", n)
	}
	if got := gauges(svc, "globex/deploy"); got != [3]float64{1, 1, 0} {
		t.Fatalf("globex/deploy gauges = %v", got)
	}
	if got := gauges(svc, full); got != [3]float64{0, 0, 0} {
		t.Fatalf("acme/gitops gauges = %v", got)
	}
}

// TestOnlyTheLeaseHolderExportsPRMetrics: of two replicas, one refreshes
// the gauges; when it stops, the other takes over.
func TestOnlyTheLeaseHolderExportsPRMetrics(t *testing.T) {
	h := newHarness(t, fixture())
	seedPRs(t, h, full, 1)
	cfg := Config{PRMetricsInterval: 100 * time.Millisecond}
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := h.start(options{cfg: cfg, registry: regA})
	h.eventually(func() bool { return testutil.CollectAndCount(a.svc.metrics.open) == 1 }, "the first replica to export")
	b := h.start(options{cfg: cfg, registry: regB})
	// The second replica has tried for the lease a few times.
	h.eventually(func() bool { return b.svc.leaseAttempts.Load() >= 3 }, "the second replica to try for the lease")
	if n := testutil.CollectAndCount(b.svc.metrics.open); n != 0 {
		t.Fatalf("the second replica exports %d series while the first holds the lease", n)
	}
	a.stop()
	h.eventually(func() bool { return testutil.CollectAndCount(b.svc.metrics.open) == 1 }, "the second replica to take over")
	if got := gauges(b.svc, full); got[0] != 1 {
		t.Fatalf("gauges = %v", got)
	}
}
