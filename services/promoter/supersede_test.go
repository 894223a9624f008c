package promoter

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

func set(s string) *string { return &s }

func mustMetadata(t *testing.T, body string) *metadata.Metadata {
	t.Helper()
	md, err := metadata.Extract(body)
	if err != nil {
		t.Fatalf("PR body without metadata: %v\n%s", err, body)
	}
	return md
}

func TestSupersedeOpensOnePRAndReplaysAreNoOps(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	origin := f.origin("one")
	merge := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n"), "source/a/new.yaml": set("n: 1\n")})
	ev := planned(merge, origin, "supersede", "a")
	f.publish(ev, false)
	done := f.finished(merge, 1)
	if done.Outcome != events.OutcomeOpened || done.Number == 0 {
		t.Fatalf("finished: %+v", done)
	}
	pr := f.pr(done.Number)
	if pr.Head != ev.Branch || pr.Title != "🚀 Promotion: a ➡️  target/" || !slices.Equal(pr.Labels, []string{"promotion"}) ||
		!slices.Equal(pr.Assignees, []string{human}) {
		t.Fatalf("PR: %+v", pr)
	}
	if f.file(pr.Head, "target/a/app.yaml") != "a: 2\n" || f.file(pr.Head, "target/a/new.yaml") != "n: 1\n" {
		t.Fatal("the PR branch does not hold the source")
	}
	c, err := f.gh.GetCommit(repoName, pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "Syncing from source/" || !slices.Equal(c.Parents, []string{merge}) {
		t.Fatalf("promotion commit: %+v", c)
	}
	md := mustMetadata(t, pr.Body)
	if md.BranchCommit != c.SHA || md.SourceCommit != merge || md.PromotionKey != groupKey || !slices.Equal(md.OriginPrs, []int{origin}) {
		t.Fatalf("metadata: %+v", md)
	}

	// A replay under a new id changes nothing on GitHub.
	commits := f.gh.Count("POST /repos/{owner}/{repo}/git/commits")
	f.publish(ev, true)
	f.idle()
	if again := payloads[*events.PromotionEntryFinished](f, events.TypePromotionEntryFinished); len(again) != 1 {
		t.Fatalf("the replay published another entry_finished: %+v", again)
	}
	if n := len(f.botPRs()); n != 1 || f.gh.Count("POST /repos/{owner}/{repo}/git/commits") != commits {
		t.Fatalf("replay made %d PRs and %d commits", n, f.gh.Count("POST /repos/{owner}/{repo}/git/commits")-commits)
	}
}

func TestSupersedeUpdatesTheOpenPRAndNeverMovesBack(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	o1, o2 := f.origin("one"), f.origin("two")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n"), "source/a/app.yaml": set("a: 3\n")})
	f.publish(planned(m2, o2, "supersede", "a", "b"), false)
	first := f.finished(m2, 1)
	// The older merge arrives late: it joins the PR but does not move the
	// source back to its commit.
	f.publish(planned(m1, o1, "supersede", "a"), false)
	late := f.finished(m1, 1)
	if late.Outcome != events.OutcomeUpdated || late.Number != first.Number {
		t.Fatalf("late merge: %+v (first %+v)", late, first)
	}
	pr := f.pr(first.Number)
	md := mustMetadata(t, pr.Body)
	if md.SourceCommit != m2 || !slices.Equal(md.OriginPrs, []int{o1, o2}) {
		t.Fatalf("metadata after the late merge: %+v", md)
	}
	if f.file(pr.Head, "target/a/app.yaml") != "a: 3\n" || f.file(pr.Head, "target/b/app.yaml") != "b: 2\n" {
		t.Fatal("the branch moved back to the older merge")
	}
	if !strings.Contains(pr.Body, "Includes changes from: #"+strconv.Itoa(o1)+", #"+strconv.Itoa(o2)) {
		t.Fatalf("body:\n%s", pr.Body)
	}
	if n := len(f.botPRs()); n != 1 {
		t.Fatalf("%d promotion PRs", n)
	}
	updated := payloads[*events.PromotionPRUpdated](f, events.TypePromotionPRUpdated)
	if len(updated) != 1 || updated[0].SourceCommit != m2 {
		t.Fatalf("pr_updated events: %+v", updated)
	}
}

// Once the newer merge's PR is merged, the group has no open PR; the older
// merge handled late still reads its sources at the newer commit, so it
// finds the targets in sync instead of opening a PR that moves them back.
func TestSupersedeNeverMovesBackAfterTheNewerPRWasMerged(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	o1, o2 := f.origin("one"), f.origin("two")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	m2 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 3\n")})
	newer := planned(m2, o2, "supersede", "a")
	newer.AutoMerge = true
	f.publish(newer, false)
	if done := f.finished(m2, 1); done.Outcome != events.OutcomeMerged {
		t.Fatalf("newer merge: %+v", done)
	}
	older := planned(m1, o1, "supersede", "a")
	older.AutoMerge = true
	f.publish(older, false)
	if late := f.finished(m1, 1); late.Outcome != events.OutcomeInSync {
		t.Fatalf("late older merge: %+v", late)
	}
	if got := f.file("main", "target/a/app.yaml"); got != "a: 3\n" {
		t.Fatalf("target/a on main is %q, want the newer merge's", got)
	}
	if n := len(f.botPRs()); n != 1 {
		t.Fatalf("%d promotion PRs, want the newer merge's only", n)
	}
}

func TestSupersedeReplacesAPRSomeoneElsePushedTo(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	o1, o2 := f.origin("one"), f.origin("two")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	ev1 := planned(m1, o1, "supersede", "a")
	f.publish(ev1, false)
	first := f.finished(m1, 1)
	if _, err := f.gh.Push(repoName, ev1.Branch, "bob", "hand edit", map[string]*string{"target/a/extra.yaml": set("x\n")}); err != nil {
		t.Fatal(err)
	}
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n")})
	f.publish(planned(m2, o2, "supersede", "b"), false)
	second := f.finished(m2, 1)
	if second.Outcome != events.OutcomeOpened || second.Number == first.Number {
		t.Fatalf("second: %+v", second)
	}
	old, repl := f.pr(first.Number), f.pr(second.Number)
	if old.State != "closed" || old.Merged {
		t.Fatalf("the pushed-to PR is %s", old.State)
	}
	cs := f.comments(first.Number)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "#"+strconv.Itoa(second.Number)) {
		t.Fatalf("comments on the old PR: %+v", cs)
	}
	if repl.Head != ev1.Branch+"-"+m2[:7] {
		t.Fatalf("replacement branch %q", repl.Head)
	}
	if f.file(repl.Head, "target/a/app.yaml") != "a: 2\n" || f.file(repl.Head, "target/b/app.yaml") != "b: 2\n" ||
		f.file(old.Head, "target/a/extra.yaml") != "x\n" {
		t.Fatal("replacement does not carry both promotions, or the hand edit was overwritten")
	}
	if md := mustMetadata(t, repl.Body); !slices.Equal(md.OriginPrs, []int{o1, o2}) {
		t.Fatalf("replacement origins %v", md.OriginPrs)
	}
	opened := payloads[*events.PromotionPROpened](f, events.TypePromotionPROpened)
	if opened[len(opened)-1].Replaces != first.Number {
		t.Fatalf("pr_opened does not name the replaced PR: %+v", opened[len(opened)-1])
	}
}

func TestSupersedeClosesAPRWhoseTargetsAlreadyMatch(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	o1, o2 := f.origin("one"), f.origin("two")
	m1 := f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	f.publish(planned(m1, o1, "supersede", "a"), false)
	first := f.finished(m1, 1)
	// Someone syncs the target by hand on main and reverts nothing else.
	m2 := f.merge(map[string]*string{"target/a/app.yaml": set("a: 2\n"), "source/b/app.yaml": set("b: 1\n")})
	f.publish(planned(m2, o2, "supersede", "b"), false)
	second := f.finished(m2, 1)
	if second.Outcome != events.OutcomeInSync {
		t.Fatalf("second: %+v", second)
	}
	if pr := f.pr(first.Number); pr.State != "closed" {
		t.Fatalf("PR %d is %s", first.Number, pr.State)
	}
	if cs := f.comments(first.Number); len(cs) != 1 || !strings.Contains(cs[0].Body, "already match") {
		t.Fatalf("comments: %+v", cs)
	}
	if in := payloads[*events.PromotionInSync](f, events.TypePromotionInSync); len(in) != 1 || in[0].ClosedPR != first.Number {
		t.Fatalf("in_sync events: %+v", in)
	}
}

func TestAlreadyInSyncOpensNoPR(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	merge := f.merge(map[string]*string{"source/README.md": set("docs\n")})
	f.publish(planned(merge, f.origin("one"), "supersede", "a", "b"), false)
	if done := f.finished(merge, 1); done.Outcome != events.OutcomeInSync {
		t.Fatalf("finished: %+v", done)
	}
	if n := len(f.botPRs()); n != 0 || f.gh.Count("POST /repos/{owner}/{repo}/git/trees") != 0 {
		t.Fatalf("%d PRs, %d trees created", n, f.gh.Count("POST /repos/{owner}/{repo}/git/trees"))
	}
}

func TestConcurrentMergesOfOneGroupAreAllCarried(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	var merges []string
	var origins []int
	for i, c := range []string{"a", "b"} {
		origins = append(origins, f.origin("o"+strconv.Itoa(i)))
		merges = append(merges, f.merge(map[string]*string{"source/" + c + "/app.yaml": set(c + ": 9\n")}))
	}
	// Different origin PRs land on different workers; the group lease
	// serialises them.
	for i, c := range []string{"a", "b"} {
		f.publish(planned(merges[i], origins[i], "supersede", c), false)
	}
	f.finished(merges[0], 1)
	f.finished(merges[1], 1)
	prs := f.botPRs()
	if len(prs) != 1 {
		t.Fatalf("%d PRs: %+v", len(prs), prs)
	}
	if md := mustMetadata(t, prs[0].Body); !slices.Equal(md.OriginPrs, origins) {
		t.Fatalf("origins %v, want %v", md.OriginPrs, origins)
	}
	if f.file(prs[0].Head, "target/a/app.yaml") != "a: 9\n" || f.file(prs[0].Head, "target/b/app.yaml") != "b: 9\n" {
		t.Fatal("the PR does not carry both merges")
	}
}
