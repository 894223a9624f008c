package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

// Fault runs (issue 13): quick successive merges to workspace/ (whose
// lab + staging PR is merged automatically), with GitHub faults injected
// on the calls the services make and the promoter killed and restarted at
// random moments. After each run settles, no target may ever have moved
// back to an older version on the default branch's history, and the
// promotion promise must hold.
//
//	E2E_FAULT_RUNS    runs (default 3: the short version in make test)
//	E2E_FAULT_MERGES  merges per run (default 4)
//	E2E_FAULT_SEED    first run's seed (default: from the clock; each run logs its own)
//	E2E_FAULT_RATE    percent of merges preceded by an injected fault (default 70)
//	E2E_KILL_RATE     percent of merges followed by a promoter kill (default 30)
//	E2E_GITHUB_MS     latency added to every GitHub call (default: 0-30 ms, by seed)
//
// make test-faults runs it longer and prints the figures.

// faultRoutes are the GitHub calls faults are injected into.
var faultRoutes = []struct{ method, route string }{
	{"GET", "/repos/{owner}/{repo}/git/trees/{sha}"},
	{"POST", "/repos/{owner}/{repo}/git/trees"},
	{"POST", "/repos/{owner}/{repo}/git/commits"},
	{"POST", "/repos/{owner}/{repo}/git/refs"},
	{"PATCH", "/repos/{owner}/{repo}/git/refs/*"},
	{"GET", "/repos/{owner}/{repo}/git/ref/*"},
	{"GET", "/repos/{owner}/{repo}/pulls"},
	{"POST", "/repos/{owner}/{repo}/pulls"},
	{"PATCH", "/repos/{owner}/{repo}/pulls/{number}"},
	{"PUT", "/repos/{owner}/{repo}/pulls/{number}/merge"},
	{"GET", "/repos/{owner}/{repo}/compare/*"},
	{"POST", "/repos/{owner}/{repo}/issues/{number}/comments"},
	{"GET", "/repos/{owner}/{repo}/pulls/{number}/files"},
}

var faultKinds = []string{emulator.FaultServerError, emulator.FaultSecondaryRateLimit, emulator.FaultPrimaryRateLimit, emulator.FaultDrop}

// versioned are the target files whose version (the merge number written
// into the source) must never go down along the default branch's history.
var versioned = []string{
	labNginx + "/deployment.yaml", stagingNginx + "/deployment.yaml",
	"clusters/lab/c1/redis/service.yaml", stagingRedis + "/service.yaml",
}

type faultFigures struct {
	runs, merges, faults, kills int
	// reverts: steps where a target went to an older version; violations:
	// targets breaking the promise at the end; broken: runs with either.
	reverts, violations, broken int
	took                        time.Duration
}

func (f *faultFigures) add(o faultFigures) {
	f.runs += o.runs
	f.merges += o.merges
	f.faults += o.faults
	f.kills += o.kills
	f.reverts += o.reverts
	f.violations += o.violations
	if o.reverts+o.violations > 0 {
		f.broken++
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// faultPlan is what a fault run does besides merging.
type faultPlan struct {
	merges, faultRate, killRate int
	latency                     int // ms per GitHub call; -1: chosen by seed
}

func TestFaultRunsNeverMoveATargetBack(t *testing.T) {
	runs := envInt("E2E_FAULT_RUNS", 3)
	plan := faultPlan{merges: envInt("E2E_FAULT_MERGES", 4), faultRate: envInt("E2E_FAULT_RATE", 70),
		killRate: envInt("E2E_KILL_RATE", 30), latency: envInt("E2E_GITHUB_MS", -1)}
	seed := int64(envInt("E2E_FAULT_SEED", int(time.Now().UnixNano()%1_000_000_000)))
	start := time.Now()
	var total faultFigures
	var mu sync.Mutex
	for i := range runs {
		runSeed := seed + int64(i)
		t.Run(fmt.Sprintf("seed-%d", runSeed), func(t *testing.T) {
			f := faultRun(t, runSeed, plan)
			mu.Lock()
			total.add(f)
			mu.Unlock()
		})
	}
	total.took = time.Since(start)
	summary := fmt.Sprintf("fault runs: %d, merges: %d, faults hit: %d, promoter kills: %d, steps back: %d, promise violations: %d, runs with either: %d, took %s (%.1fs a run)",
		total.runs, total.merges, total.faults, total.kills, total.reverts, total.violations, total.broken,
		total.took.Round(time.Second), total.took.Seconds()/float64(max(total.runs, 1)))
	t.Log(summary)
	if os.Getenv("E2E_FAULT_SUMMARY") != "" {
		fmt.Println(summary)
	}
}

func faultRun(t *testing.T, seed int64, p faultPlan) faultFigures {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	h := Start(t, Options{Env: map[string]string{"PROMOTER_ACK_WAIT": "3s"}})
	latency := p.latency
	if latency < 0 {
		latency = rng.IntN(30)
	}
	h.GitHub.SetLatency(time.Duration(latency) * time.Millisecond)
	fig := faultFigures{runs: 1, merges: p.merges}
	injected := 0
	for k := 1; k <= p.merges; k++ {
		began := time.Now()
		if rng.IntN(100) < p.faultRate {
			r := faultRoutes[rng.IntN(len(faultRoutes))]
			f := emulator.Fault{Method: r.method, Route: r.route, Kind: faultKinds[rng.IntN(len(faultKinds))], Count: 1 + rng.IntN(2), RetryAfter: 1, ResetIn: 1}
			if err := h.GitHub.InjectFault(f); err != nil {
				t.Fatal(err)
			}
			injected += f.Count
		}
		change := Change{}
		version := Set("version: " + strconv.Itoa(k) + "\n")
		switch rng.IntN(3) {
		case 0:
			change[workspaceNginx+"/deployment.yaml"] = version
		case 1:
			change[workspaceRedis+"/service.yaml"] = version
		default:
			change[workspaceNginx+"/deployment.yaml"] = version
			change[workspaceRedis+"/service.yaml"] = version
		}
		h.MergeChange("change-"+strconv.Itoa(k), change)
		if rng.IntN(100) < p.killRate {
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			h.KillService("promoter")
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
			h.StartService("promoter")
			fig.kills++
		}
		time.Sleep(100*time.Millisecond - time.Since(began))
	}
	h.WaitSettled(3 * time.Minute)
	pending := 0
	for _, f := range h.GitHub.Faults() {
		pending += f.Count
	}
	h.GitHub.ClearFaults()
	fig.faults = injected - pending
	fig.reverts = movedBack(t, h)
	for _, v := range h.CheckPromise() {
		t.Errorf("promotion promise broken: %s", v)
		fig.violations++
	}
	t.Logf("seed %d: %d merges, %d faults hit, %d kills, %d steps back, %d promise violations", seed, p.merges, fig.faults, fig.kills, fig.reverts, fig.violations)
	return fig
}

// movedBack walks the default branch's first-parent history, oldest first,
// and counts the steps where a versioned target file goes to an older
// version than it had the commit before.
func movedBack(t *testing.T, h *Harness) int {
	t.Helper()
	var history []string
	for sha := "main"; sha != ""; {
		c, err := h.GitHub.GetCommit(h.Repo, sha)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, c.SHA)
		sha = ""
		if len(c.Parents) > 0 {
			sha = c.Parents[0]
		}
	}
	back := 0
	for _, target := range versioned {
		last := 0 // the version at the commit before
		for i := len(history) - 1; i >= 0; i-- {
			content, err := h.GitHub.ReadFile(h.Repo, history[i], target)
			if err != nil {
				continue // not there (yet)
			}
			v, ok := strings.CutPrefix(strings.TrimSpace(content), "version: ")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				continue
			}
			if n < last {
				t.Errorf("%s moved back from version %d to %d in %s", target, last, n, short(history[i]))
				back++
			}
			last = n
		}
	}
	return back
}
