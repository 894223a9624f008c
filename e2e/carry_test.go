package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

const histIndent = "&nbsp;&nbsp;&nbsp;&nbsp;"

// A supersede update lists only what the PR carries: a merge whose
// components the PR's targets block does not join it, and unrelated merges
// the PR carries are sibling chains in its history, not one nested under
// the other (issue 16).
func TestSupersedeUpdateListsOnlyWhatThePRCarries(t *testing.T) {
	h := Start(t, Options{})
	o1, m1 := h.MergeChange("nginx", Change{workspaceNginx + "/deployment.yaml": Set("replicas: 2\n")})
	p1 := h.RunPRs(h.WaitRun(m1, runTimeout).RunID)[0]
	h.WaitRun(p1.MergeCommitSHA, runTimeout)
	// redis blocks clusters/prod/us-*: this chain reaches prod eu-1 only.
	o2, m2 := h.MergeChange("redis", Change{workspaceRedis + "/service.yaml": Set("port: 6390\n")})
	p2 := h.RunPRs(h.WaitRun(m2, runTimeout).RunID)[0]
	h.WaitRun(p2.MergeCommitSHA, runTimeout)
	h.WaitSettled(runTimeout)

	us := singleOpenPR(t, h, "prod us-1")
	if us.Title != "🚀 Promotion: nginx ➡️  prod us-1" {
		t.Errorf("us-1 title %q", us.Title)
	}
	md, err := metadata.Extract(us.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Components) != 1 || md.Components[0].Name != "nginx" || !slices.Equal(md.OriginPrs, []int{p1.Number}) {
		t.Errorf("us-1 metadata: components %+v, origins %v", md.Components, md.OriginPrs)
	}
	for _, n := range []int{o2, p2.Number} {
		if strings.Contains(us.Body, "#"+itoa(n)+" ") {
			t.Errorf("the us-1 PR lists #%d, which it does not carry:\n%s", n, us.Body)
		}
	}

	eu := singleOpenPR(t, h, "prod eu-1")
	if eu.Title != "🚀 Promotion: nginx,redis ➡️  prod eu-1" {
		t.Errorf("eu-1 title %q", eu.Title)
	}
	for _, line := range []string{
		"↘️  #" + itoa(o1) + "  `workspace/` ➡️  ",
		histIndent + "↘️  #" + itoa(p1.Number) + "  `clusters/staging/c1/` ➡️  ",
		"↘️  #" + itoa(o2) + "  `workspace/` ➡️  ",
		histIndent + "↘️  #" + itoa(p2.Number) + "  `clusters/staging/c1/` ➡️  ",
	} {
		if !slices.Contains(strings.Split(eu.Body, "\n"), line) {
			t.Errorf("the eu-1 history lacks the line %q:\n%s", line, eu.Body)
		}
	}
}
