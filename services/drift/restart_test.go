package drift

import (
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const statusRoute = "/repos/{owner}/{repo}/statuses/{sha}"

// openDriftPRSlowly opens a drifting PR while blob reads are slow, and
// waits until the check is under way (pending set, a blob read started).
func openDriftPRSlowly(h *harness, latency time.Duration) (int, string) {
	h.t.Helper()
	h.emu.SetRouteLatency(blobRoute, latency)
	pr := h.openPR("bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})
	head := h.pr(pr).HeadSHA
	h.eventually(func() bool {
		return len(h.statuses(head, githubapi.StatusContext)) == 1 && h.emu.Count(blobRoute) > 0
	}, "the check to read blobs")
	return pr, head
}

// TestKilledMidCheckEndsAfterRestart: a process killed in the middle of a
// check leaves the status pending; the delivery is redelivered to the
// restarted service, which ends it, with one drift comment.
func TestKilledMidCheckEndsAfterRestart(t *testing.T) {
	h := newHarness(t, fixture())
	first := h.start(options{cfg: Config{AckWait: 2 * time.Second}})
	pr, head := openDriftPRSlowly(h, 10*time.Second)
	first.kill()
	if got := h.statuses(head, githubapi.StatusContext); strings.Join(got, ",") != "pending" {
		t.Fatalf("states after the kill = %v", got)
	}
	h.emu.ClearLatency()
	h.start(options{cfg: Config{AckWait: 2 * time.Second}})
	states := h.waitFinal(head)
	if states[len(states)-1] != "success" {
		t.Fatalf("status states = %v", states)
	}
	h.waitIdle()
	if n := len(visible(h.botComments(pr), driftHeading)); n != 1 {
		t.Fatalf("%d drift comments after the restart, want 1", n)
	}
}

// TestFinalStatusFailureIsRetriedWithoutRepeatingTheCheck: when writing
// the final status fails, the redelivery only writes the status; the drift
// comment is not posted twice.
func TestFinalStatusFailureIsRetriedWithoutRepeatingTheCheck(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	pr, head := openDriftPRSlowly(h, 300*time.Millisecond)
	if err := h.emu.InjectFault(emulator.Fault{Method: "POST", Route: statusRoute, Kind: emulator.FaultServerError}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,success" {
		t.Fatalf("status states = %s, want pending,success", got)
	}
	h.waitIdle()
	if n := len(h.botComments(pr)); n != 1 {
		t.Fatalf("the bot posted %d comments, want the one drift comment", n)
	}
}

// TestCommentFailureIsRetried: a failed comment post makes the delivery
// run again; the status still ends, with one drift comment.
func TestCommentFailureIsRetried(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{})
	if err := h.emu.InjectFault(emulator.Fault{Method: "POST", Route: commentsRoute, Kind: emulator.FaultServerError, Count: 2}); err != nil {
		t.Fatal(err)
	}
	pr, _ := driftPR(h)
	if n := len(visible(h.botComments(pr), driftHeading)); n != 1 {
		t.Fatalf("%d drift comments, want 1", n)
	}
}

// TestEventTimeoutEndsWithError: a check that overruns EVENT_TIMEOUT ends
// with an error status written after the deadline.
func TestEventTimeoutEndsWithError(t *testing.T) {
	h := newHarness(t, fixture())
	h.start(options{eventTimeout: time.Second})
	_, head := openDriftPRSlowly(h, 5*time.Second)
	if got := strings.Join(h.waitFinal(head), ","); got != "pending,error" {
		t.Fatalf("status states = %s, want pending,error", got)
	}
	if d := h.lastStatus(head).Description; d != "drift check timed out" {
		t.Fatalf("description = %q", d)
	}
}
