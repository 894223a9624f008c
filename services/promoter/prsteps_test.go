package promoter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

func TestAutoMergeRetriesBaseBranchModified(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	origin := f.origin("one")
	merge := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	ev := planned(merge, origin, "supersede", "a")
	ev.AutoMerge = true
	f.gh.FailNextMerge()
	f.publish(ev, false)
	done := f.finished(merge, 1)
	if done.Outcome != events.OutcomeMerged {
		t.Fatalf("finished: %+v", done)
	}
	pr := f.pr(done.Number)
	if !pr.Merged || f.file("main", "target/a/app.yaml") != "a: 2\n" {
		t.Fatalf("PR %d not merged into main: %+v", pr.Number, pr)
	}
	c, err := f.gh.GetCommit(repoName, pr.MergeCommitSHA)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Message, "Auto-merge") {
		t.Fatalf("merge commit message %q", c.Message)
	}
	merged := payloads[*events.PromotionMerged](f, events.TypePromotionMerged)
	if len(merged) != 1 || merged[0].Attempts != 2 || merged[0].MergedAs != pr.MergeCommitSHA {
		t.Fatalf("merged events: %+v", merged)
	}
	// The merge was retried by redelivery; the PR's opening is still told.
	if opened := payloads[*events.PromotionPROpened](f, events.TypePromotionPROpened); len(opened) != 1 || opened[0].Number != pr.Number {
		t.Fatalf("pr_opened events: %+v", opened)
	}
	want := "✅ Auto merge is enabled\n🚀 Merging promotion PR: #" + strconv.Itoa(pr.Number) + "\n"
	cs := f.comments(origin)
	if len(cs) != 1 || !strings.HasSuffix(cs[0].Body, want) || !strings.HasPrefix(cs[0].Body, "<!-- telefonistka_tag -->\n") {
		t.Fatalf("origin comments: %+v", cs)
	}
}

func TestAutoMergeRefusedFailsTheEntryWithAComment(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	origin := f.origin("one")
	merge := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	ev := planned(merge, origin, "supersede", "a")
	ev.AutoMerge = true
	// While the PR is being opened, main changes the same file: the merge
	// conflicts and GitHub refuses it.
	const createPull = "POST /repos/{owner}/{repo}/pulls"
	f.gh.SetRouteLatency(createPull, 800*time.Millisecond)
	f.publish(ev, false)
	deadline := time.Now().Add(10 * time.Second)
	for f.gh.Count(createPull) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.merge(map[string]*string{"target/a/app.yaml": set("a: conflicting\n")})
	done := f.finished(merge, 1)
	if done.Outcome != events.OutcomeFailed || done.Number == 0 || !strings.Contains(done.Error, "not mergeable") {
		t.Fatalf("finished: %+v", done)
	}
	if pr := f.pr(done.Number); pr.Merged || pr.State != "open" {
		t.Fatalf("PR: %+v", pr)
	}
	cs := f.comments(origin)
	if len(cs) != 2 || !strings.Contains(cs[1].Body, "Could not merge promotion PR #"+strconv.Itoa(done.Number)) {
		t.Fatalf("origin comments: %+v", cs)
	}
	failed := payloads[*events.PromotionFailed](f, events.TypePromotionFailed)
	if len(failed) != 1 || failed[0].Stage != "merge" {
		t.Fatalf("failed events: %+v", failed)
	}
}

func TestAutoApprove(t *testing.T) {
	for _, withApprover := range []bool{true, false} {
		t.Run("approver="+strconv.FormatBool(withApprover), func(t *testing.T) {
			f := newFixture(t, baseFiles(), withApprover)
			f.start()
			merge := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
			ev := planned(merge, f.origin("one"), "supersede", "a")
			ev.AutoApprove = true
			f.publish(ev, false)
			done := f.finished(merge, 1)
			if done.Outcome != events.OutcomeOpened {
				t.Fatalf("finished: %+v", done)
			}
			pr, cs := f.pr(done.Number), f.comments(done.Number)
			if withApprover {
				if len(pr.Reviews) != 1 || pr.Reviews[0].State != "APPROVED" || pr.Reviews[0].Author != "approver" || len(cs) != 0 {
					t.Fatalf("reviews %+v, comments %+v", pr.Reviews, cs)
				}
				return
			}
			if len(pr.Reviews) != 0 || len(cs) != 1 || !strings.Contains(cs[0].Body, "APPROVER_") {
				t.Fatalf("reviews %+v, comments %+v", pr.Reviews, cs)
			}
		})
	}
}

func TestPerChangeAdoptsExistingBranchPRs(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()

	// An open PR on the branch (opened before a restart, or by the
	// original): adopted, labelled, its branch not moved. (A first attempt
	// does not look before writing: it finds the branch when creating it,
	// and then looks like a retry; the commit it made is left unused.)
	o1 := f.origin("one")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	ev1 := planned(m1, o1, "perChange", "a")
	head1, err := f.gh.Push(repoName, ev1.Branch, botLogin, "Syncing from source/", map[string]*string{"target/a/app.yaml": set("a: 2\n")})
	if err != nil {
		t.Fatal(err)
	}
	n1, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: botLogin, Title: "old", Head: ev1.Branch})
	if err != nil {
		t.Fatal(err)
	}
	f.publish(ev1, false)
	if done := f.finished(m1, 1); done.Outcome != events.OutcomeAdopted || done.Number != n1 {
		t.Fatalf("open PR: %+v", done)
	}
	if pr := f.pr(n1); !slices.Equal(pr.Labels, []string{"promotion"}) || !slices.Equal(pr.Assignees, []string{human}) {
		t.Fatalf("adopted PR: %+v", pr)
	}

	// A PR closed without merging: a person rejected it; left alone.
	o2 := f.origin("two")
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n")})
	ev2 := planned(m2, o2, "perChange", "b")
	head2, err := f.gh.Push(repoName, ev2.Branch, botLogin, "Syncing from source/", map[string]*string{"target/b/app.yaml": set("b: 2\n")})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: botLogin, Title: "rejected", Head: ev2.Branch})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.ClosePullRequest(repoName, n2, human); err != nil {
		t.Fatal(err)
	}
	f.publish(ev2, false)
	if done := f.finished(m2, 1); done.Outcome != events.OutcomeRejected {
		t.Fatalf("closed PR: %+v", done)
	}

	// A leftover branch without a PR: reset and the PR opened.
	o3 := f.origin("three")
	m3 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 3\n")})
	ev3 := planned(m3, o3, "perChange", "a")
	if _, err := f.gh.Push(repoName, ev3.Branch, "bob", "stale", map[string]*string{"target/a/app.yaml": set("stale\n")}); err != nil {
		t.Fatal(err)
	}
	f.publish(ev3, false)
	done := f.finished(m3, 1)
	if done.Outcome != events.OutcomeOpened {
		t.Fatalf("leftover branch: %+v", done)
	}
	if pr := f.pr(done.Number); pr.Head != ev3.Branch || f.file(pr.Head, "target/a/app.yaml") != "a: 3\n" {
		t.Fatalf("PR %+v holds %q", pr, f.file(pr.Head, "target/a/app.yaml"))
	}
	if b, berr := f.gh.Branches(repoName); berr != nil || b[ev1.Branch] != head1 || b[ev2.Branch] != head2 {
		t.Fatalf("adopted and rejected branches moved: %s→%s, %s→%s", head1, b[ev1.Branch], head2, b[ev2.Branch])
	}
	if n := len(f.botPRs()); n != 3 {
		t.Fatalf("%d bot PRs, want 3", n)
	}
}

func TestFanInNoteWhenDuplicateSourcesDiffer(t *testing.T) {
	files := baseFiles()
	files["other/a/app.yaml"] = "a: other\n"
	f := newFixture(t, files, false)
	f.start()
	merge := f.merge(map[string]*string{"source/a/app.yaml": set("a: 5\n")})
	ev := planned(merge, f.origin("one"), "supersede", "a")
	ev.Components = append(ev.Components, events.PromotionComponent{SourceDir: "source2/", Name: "a"})
	ev.Duplicates = []events.PromotionDuplicate{{
		Winner: events.PromotionPair{SourceDir: "source/", TargetDir: "target/", Component: "a"},
		Loser:  events.PromotionPair{SourceDir: "other/", TargetDir: "target/", Component: "a"},
	}}
	f.publish(ev, false)
	done := f.finished(merge, 1)
	body := f.pr(done.Number).Body
	if !strings.Contains(body, "Note: target/a had several sources in this change; source/a was used, other/a was not.\n") {
		t.Fatalf("body:\n%s", body)
	}
	if f.file(f.pr(done.Number).Head, "target/a/app.yaml") != "a: 5\n" {
		t.Fatal("the winner was not synced")
	}
}

// A PR the promoter adopts whose head someone else pushed is not approved
// or merged: the PR and the origin PR say so and the entry fails.
func TestAdoptedPRWithAForeignHeadIsNotApprovedOrMerged(t *testing.T) {
	f := newFixture(t, baseFiles(), true)
	f.start()
	origin := f.origin("one")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	f.publish(planned(m1, origin, "perChange", "a"), false)
	first := f.finished(m1, 1)
	if first.Outcome != events.OutcomeOpened {
		t.Fatalf("first entry: %+v", first)
	}
	pr := f.pr(first.Number)
	pushed, err := f.gh.Push(repoName, pr.Head, "mallory", "unreviewed", map[string]*string{"target/a/evil.yaml": set("x\n")})
	if err != nil {
		t.Fatal(err)
	}

	// A later entry with the same branch adopts the PR.
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n")})
	ev := planned(m2, origin, "perChange", "a")
	ev.AutoApprove, ev.AutoMerge = true, true
	f.publish(ev, false)
	done := f.finished(m2, 1)
	if done.Outcome != events.OutcomeFailed || done.Number != pr.Number || !strings.Contains(done.Error, "someone else pushed") {
		t.Fatalf("adopting entry: %+v", done)
	}
	after := f.pr(pr.Number)
	if after.Merged || after.HeadSHA != pushed || len(after.Reviews) != 0 {
		t.Fatalf("the PR someone pushed to: %+v", after)
	}
	if cs := f.comments(pr.Number); len(cs) != 1 || !strings.Contains(cs[0].Body, "(`"+pr.HeadSHA[:7]+"`)") {
		t.Fatalf("promotion PR comments: %+v", cs)
	}
	cs := f.comments(origin)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "Could not merge promotion PR #"+strconv.Itoa(pr.Number)+" automatically: someone else pushed") {
		t.Fatalf("origin comments: %+v", cs)
	}
	if f.gh.Count("PUT /repos/{owner}/{repo}/pulls/{number}/merge") != 0 {
		t.Fatal("a merge was attempted")
	}
}

// A merge GitHub asks to try again waits in JetStream (the entry comes back
// later), not inside the handler: an entry behind it on the same branch is
// handled meanwhile (issue 12).
func TestMergeRetryWaitsInJetStreamNotInTheHandler(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	o1, o2 := f.origin("one"), f.origin("two")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n")})
	for range 3 {
		f.gh.FailNextMerge()
	}
	fast := planned(m1, o1, "supersede", "a")
	fast.AutoMerge = true
	f.publish(fast, false)
	// The same group through a flow without autoMerge (a label-conditioned
	// fast path shares the plan key): the same branch, so the same ordering key.
	f.publish(planned(m2, o2, "supersede", "b"), false)

	second := f.finished(m2, 1)
	if second.Outcome != events.OutcomeUpdated {
		t.Fatalf("entry behind the retried merge: %+v", second)
	}
	if got := payloads[*events.PromotionEntryFinished](f, events.TypePromotionEntryFinished); len(got) != 1 {
		t.Fatalf("the entry behind the retried merge finished after it: %+v", got)
	}
	first := f.finished(m1, 1)
	if first.Outcome != events.OutcomeMerged {
		t.Fatalf("retried merge: %+v", first)
	}
	merged := payloads[*events.PromotionMerged](f, events.TypePromotionMerged)
	if len(merged) != 1 || merged[0].Attempts != 4 {
		t.Fatalf("merged events: %+v", merged)
	}
	if f.file("main", "target/a/app.yaml") != "a: 2\n" || f.file("main", "target/b/app.yaml") != "b: 2\n" {
		t.Fatal("the merged PR does not carry both merges")
	}
	info, err := f.conn.JS.Consumer(t.Context(), events.StreamPromotion, Consumer)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := info.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ci.Delivered.Consumer <= 2 {
		t.Fatalf("the retried merge was never redelivered: %+v", ci.Delivered)
	}
}
