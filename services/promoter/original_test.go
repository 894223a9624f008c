package promoter

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// originalBody is a PR body as the original Telefonistka wrote it: its
// metadata has no promotion key, components or commits.
func originalBody(t *testing.T, originPR int) string {
	t.Helper()
	md := `{"originalPrAuthor":"carol","originalPrNumber":0,"promotedPaths":["target/a"],` +
		`"previousPromotionPaths":{"` + strconv.Itoa(originPR) + `":{"sourcePath":"source/","targetPaths":["target/"]}}}`
	return "Promotion path(a):\n\n↘️  #" + strconv.Itoa(originPR) + "  `source/` ➡️  \n&nbsp;&nbsp;&nbsp;&nbsp;`target/`  \n\n" +
		"<!--|Telefonistka data, do not delete|" + base64.StdEncoding.EncodeToString([]byte(md)) + "|-->"
}

// After switching from the original, the first supersede promotion of a
// group supersedes the PR the original left open for the same targets: one
// open PR carries both (issue 16).
func TestSupersedeReplacesAPRTheOriginalLeftOpen(t *testing.T) {
	f := newFixture(t, baseFiles(), false)
	f.start()
	// The original promoted a change of source/a (from #old) and left the PR open.
	old := f.origin("old")
	f.merge(map[string]*string{"source/a/app.yaml": set("a: 2\n")})
	branch := "promotions/" + strconv.Itoa(old) + "-old-0123456789ab"
	if _, err := f.gh.Push(repoName, branch, botLogin, "Syncing from source/", map[string]*string{"target/a/app.yaml": set("a: 2\n")}); err != nil {
		t.Fatal(err)
	}
	orig, err := f.gh.OpenPullRequest(repoName, emulator.PullRequestSpec{Author: botLogin, Title: "🚀 Promotion: a ➡️  target/",
		Head: branch, Body: originalBody(t, old), Labels: []string{"promotion"}})
	if err != nil {
		t.Fatal(err)
	}

	// Telefonistka now promotes a change of source/b to the same target.
	o2 := f.origin("two")
	m2 := f.merge(map[string]*string{"source/b/app.yaml": set("b: 2\n")})
	ev := planned(m2, o2, "supersede", "b")
	f.publish(ev, false)
	done := f.finished(m2, 1)
	if done.Outcome != events.OutcomeOpened || done.Number == orig {
		t.Fatalf("finished: %+v", done)
	}
	if p := f.pr(orig); p.State != "closed" || p.Merged {
		t.Fatalf("the original's PR: %+v", p)
	}
	if cs := f.comments(orig); len(cs) != 1 || !strings.Contains(cs[0].Body, "#"+strconv.Itoa(done.Number)) {
		t.Fatalf("comments on the original's PR: %+v", cs)
	}
	pr := f.pr(done.Number)
	if pr.Head != ev.Branch || pr.Title != "🚀 Promotion: a,b ➡️  target/" {
		t.Fatalf("new PR: %+v", pr)
	}
	if f.file(pr.Head, "target/a/app.yaml") != "a: 2\n" || f.file(pr.Head, "target/b/app.yaml") != "b: 2\n" {
		t.Fatal("the new PR does not carry both changes")
	}
	md := mustMetadata(t, pr.Body)
	if !slices.Equal(md.OriginPrs, []int{old, o2}) || !slices.Contains(md.OriginalPrAuthors, "carol") {
		t.Fatalf("metadata: %+v", md)
	}
	open := 0
	for _, p := range f.botPRs() {
		if p.State == "open" {
			open++
		}
	}
	if open != 1 {
		t.Fatalf("%d open promotion PRs for one target, want 1", open)
	}
}
