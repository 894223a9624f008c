package drift

import (
	"context"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus/prcheck"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// With TELEFONISTKA_PR_CHECKERS unset, a repository that sets
// argocd.commentDiffonPR makes the run wait for argodiff too: drift's
// success does not end the status.
func TestRunWaitsForArgoDiffWhenTheRepositoryAsksForIt(t *testing.T) {
	files := fixture()
	files["telefonistka.yaml"] = stagingToProd + "argocd:\n  commentDiffonPR: true\n"
	h := newHarness(t, files)
	h.start(options{cfg: Config{JoinArgoDiff: true}})
	pr := h.openPR("bump-nginx", map[string]*string{"env/staging/nginx/values.yaml": emulator.Content("replicas: 1\nimage: nginx:1.26\n")})
	head := h.pr(pr).HeadSHA
	store, err := prcheck.Open(context.Background(), h.bus)
	if err != nil {
		t.Fatal(err)
	}
	key := events.PRCheckKey(events.Repo{Owner: owner, Name: repoName}, pr, head)
	var rec *events.PRCheckRun
	h.eventually(func() bool {
		rec, _, err = store.Get(context.Background(), key)
		return err == nil && rec != nil && rec.Finished(Checker)
	}, "drift to finish its part")
	if len(rec.Expected) != 2 || rec.Expected[0] != events.CheckerArgoDiff {
		t.Fatalf("expected checkers %v, want argodiff and drift", rec.Expected)
	}
	if st := h.statuses(head, githubapi.StatusContext); len(st) != 1 || st[0] != githubapi.StatePending {
		t.Fatalf("statuses %v: the run must stay pending until argodiff reports", st)
	}
	// argodiff reports: the run ends.
	rec, err = store.Modify(context.Background(), key, rec.RunID, func(r *events.PRCheckRun) {
		r.Finish(events.CheckerArgoDiff, events.CheckSuccess, "", time.Now())
	})
	if err != nil || rec == nil {
		t.Fatal(err)
	}
	if _, _, done := rec.Final(); !done {
		t.Fatal("the run is complete once argodiff reported")
	}
}
