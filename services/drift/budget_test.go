package drift

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
)

const stagingToFiveProds = `promotionPaths:
  - sourcePath: "env/staging/"
    promotionPrs:
      - targetPaths: ["env/prod-1/", "env/prod-2/", "env/prod-3/"]
      - targetPaths: ["env/prod-4/", "env/prod-5/"]
`

// TestNoDriftCostsOneTreeRead: ten sync pairs without drift cost one
// recursive tree read in all, and no blob read.
func TestNoDriftCostsOneTreeRead(t *testing.T) {
	files := map[string]string{"telefonistka.yaml": stagingToFiveProds}
	for _, env := range []string{"staging", "prod-1", "prod-2", "prod-3", "prod-4", "prod-5"} {
		for _, c := range []string{"app", "web"} {
			files["env/"+env+"/"+c+"/values.yaml"] = c + ": v1\n"
			files["env/"+env+"/"+c+"/templates/deploy.yaml"] = "kind: Deployment\n"
		}
	}
	h := newHarness(t, files)
	h.start(options{})
	h.emu.ResetCounters()
	pr := h.openPR("touch-both", map[string]*string{
		"env/staging/app/values.yaml": emulator.Content("app: v2\n"),
		"env/staging/web/values.yaml": emulator.Content("web: v2\n"),
	})
	if got := h.waitFinal(h.pr(pr).HeadSHA); got[len(got)-1] != "success" {
		t.Fatalf("status states = %v", got)
	}
	h.waitIdle()
	pairs := 10
	if n := h.emu.Count(treeRoute); n != 1 || n > int64(pairs) {
		t.Errorf("tree reads = %d for %d pairs without drift, want 1", n, pairs)
	}
	if n := h.emu.Count(blobRoute); n != 0 {
		t.Errorf("blob reads = %d without drift, want 0", n)
	}
	// telefonistka.yaml, and the two component files (absent).
	if n := h.emu.Count(contentsRoute); n != 3 {
		t.Errorf("contents reads = %d, want 3 (repo configuration and two component files)", n)
	}
	if n := len(visible(h.botComments(pr), driftHeading)); n != 0 {
		t.Errorf("%d drift comments without drift", n)
	}
	t.Logf("calls for one check without drift: %v", h.emu.Counters())
}

// TestDriftOverManyFilesReadsEachBlobOnce: 120 differing files in two
// targets holding the same contents cost one tree read and one read per
// distinct differing blob; the comment is split per pair to respect
// GitHub's size limit.
func TestDriftOverManyFilesReadsEachBlobOnce(t *testing.T) {
	const n = 120
	files := map[string]string{"telefonistka.yaml": `promotionPaths:
  - sourcePath: "env/staging/"
    promotionPrs:
      - targetPaths: ["env/prod-1/", "env/prod-2/"]
`}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("big/conf/f%03d.yaml", i)
		files["env/staging/"+name] = fmt.Sprintf("name: f%03d\nvalue: staging-%d\nshared: yes\n", i, i)
		files["env/prod-1/"+name] = fmt.Sprintf("name: f%03d\nvalue: prod-%d\nshared: yes\n", i, i)
		files["env/prod-2/"+name] = fmt.Sprintf("name: f%03d\nvalue: prod-%d\nshared: yes\n", i, i)
	}
	files["env/staging/big/README.md"] = "only in staging\n"
	h := newHarness(t, files)
	h.start(options{})
	h.emu.ResetCounters()
	pr := h.openPR("touch-big", map[string]*string{"env/staging/big/conf/f000.yaml": emulator.Content("name: f000\n")})
	if got := h.waitFinal(h.pr(pr).HeadSHA); got[len(got)-1] != "success" {
		t.Fatalf("status states = %v", got)
	}
	h.waitIdle()
	if got := h.emu.Count(treeRoute); got != 1 {
		t.Errorf("tree reads = %d, want 1", got)
	}
	// 120 staging blobs and 120 prod blobs (the same in both targets).
	if got := h.emu.Count(blobRoute); got != 2*n {
		t.Errorf("blob reads = %d, want %d (each differing blob once)", got, 2*n)
	}
	drift := visible(h.botComments(pr), driftHeading)
	if len(drift) != 2 {
		t.Fatalf("got %d drift comments, want one per pair", len(drift))
	}
	for i, target := range []string{"env/prod-1/big", "env/prod-2/big"} {
		body := drift[i].Body
		if len(body) > comments.MaxBytes {
			t.Errorf("comment %d has %d bytes", i, len(body))
		}
		if !strings.Contains(body, "`env/staging/big` ↔️  `"+target+"`") || strings.Count(body, "<details>") != 1 {
			t.Errorf("comment %d does not hold exactly the pair to %s", i, target)
		}
		if c := strings.Count(body, "\n-value: staging-"); c != n {
			t.Errorf("comment %d shows %d of the %d changed files", i, c, n)
		}
		if !strings.Contains(body, "--- env/staging/big/README.md (missing from target dir "+target+")") {
			t.Errorf("comment %d lacks the file missing from the target", i)
		}
	}
	t.Logf("calls for one check over %d drifted files in 2 pairs: %v", n, h.emu.Counters())
}
