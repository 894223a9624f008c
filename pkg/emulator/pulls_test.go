package emulator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v52/github"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

func TestPullRequestListing(t *testing.T) {
	e, bot := newRepoEmulator(t, emulator.Options{})
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		branch := fmt.Sprintf("list/%d", i)
		if _, err := e.Push("acme/gitops", branch, "alice", "c", map[string]*string{branch + ".txt": emulator.Content("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: branch, Head: branch}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.ClosePullRequest("acme/gitops", 2, "alice"); err != nil {
		t.Fatal(err)
	}
	numbers := func(prs []*github.PullRequest) string {
		var out []string
		for _, p := range prs {
			out = append(out, fmt.Sprint(p.GetNumber()))
		}
		return strings.Join(out, ",")
	}
	var pages []string
	opts := &github.PullRequestListOptions{ListOptions: github.ListOptions{PerPage: 2}}
	for {
		prs, resp, err := bot.PullRequests.List(ctx, "acme", "gitops", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, numbers(prs))
		if resp.NextPage == 0 {
			break
		}
		if resp.LastPage != 2 {
			t.Errorf("last page = %d", resp.LastPage)
		}
		opts.Page = resp.NextPage
	}
	if got := strings.Join(pages, " | "); got != "5,4 | 3,1" {
		t.Errorf("open PRs by page (newest first) = %s", got)
	}
	all, _, _ := bot.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{State: "all", Direction: "asc"})
	if numbers(all) != "1,2,3,4,5" {
		t.Errorf("all PRs ascending = %s", numbers(all))
	}
	closed, _, _ := bot.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{State: "closed"})
	if numbers(closed) != "2" {
		t.Errorf("closed PRs = %s", numbers(closed))
	}
	byHead, _, _ := bot.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{State: "all", Head: "acme:list/2"})
	if numbers(byHead) != "2" {
		t.Errorf("PRs by head = %s", numbers(byHead))
	}
	otherOwner, _, _ := bot.PullRequests.List(ctx, "acme", "gitops", &github.PullRequestListOptions{Head: "someone:list/3"})
	if len(otherOwner) != 0 {
		t.Errorf("PRs from another owner's branch = %s", numbers(otherOwner))
	}
}

func TestMergeableResetsWhenHeadMoves(t *testing.T) {
	e, bot := newRepoEmulator(t, emulator.Options{})
	ctx := context.Background()
	if _, err := e.Push("acme/gitops", "m", "alice", "c", map[string]*string{"m.txt": emulator.Content("1\n")}); err != nil {
		t.Fatal(err)
	}
	n, _ := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "m", Head: "m"})
	read := func() *github.PullRequest {
		pr, _, err := bot.PullRequests.Get(ctx, "acme", "gitops", n)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	if pr := read(); pr.Mergeable != nil || pr.GetMergeableState() != "unknown" {
		t.Fatalf("first read: mergeable %v state %s", pr.Mergeable, pr.GetMergeableState())
	}
	if pr := read(); !pr.GetMergeable() || pr.GetMergeableState() != "clean" {
		t.Fatalf("second read: mergeable %v state %s", pr.Mergeable, pr.GetMergeableState())
	}
	// A conflicting change lands on main: the next read is null again, then "dirty".
	if _, err := e.Push("acme/gitops", "main", "bob", "conflict", map[string]*string{"m.txt": emulator.Content("2\n")}); err != nil {
		t.Fatal(err)
	}
	if pr := read(); pr.Mergeable != nil {
		t.Fatalf("read after base moved: mergeable %v", pr.GetMergeable())
	}
	if pr := read(); pr.GetMergeable() || pr.GetMergeableState() != "dirty" {
		t.Fatalf("conflicting PR: mergeable %v state %s", pr.GetMergeable(), pr.GetMergeableState())
	}
	// A failing status on the head makes a clean PR "unstable".
	head, err := e.Push("acme/gitops", "m", "alice", "resolve", map[string]*string{"m.txt": emulator.Content("2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetStatus("acme/gitops", head, "telefonistka-bot", "failure", "ci", ""); err != nil {
		t.Fatal(err)
	}
	read()
	if pr := read(); !pr.GetMergeable() || pr.GetMergeableState() != "unstable" {
		t.Errorf("PR with a failing status: mergeable %v state %s", pr.GetMergeable(), pr.GetMergeableState())
	}
}

func TestPullRequestFileListIsCappedAt3000(t *testing.T) {
	e, bot := newRepoEmulator(t, emulator.Options{})
	changes := map[string]*string{}
	for i := 0; i < 3001; i++ {
		changes[fmt.Sprintf("many/f%04d.txt", i)] = emulator.Content("x\n")
	}
	if _, err := e.Push("acme/gitops", "many", "alice", "many", changes); err != nil {
		t.Fatal(err)
	}
	n, _ := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "many", Head: "many"})
	total := 0
	opts := &github.ListOptions{PerPage: 100}
	for {
		files, resp, err := bot.PullRequests.ListFiles(context.Background(), "acme", "gitops", n, opts)
		if err != nil {
			t.Fatal(err)
		}
		total += len(files)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	pr, _, _ := bot.PullRequests.Get(context.Background(), "acme", "gitops", n)
	if total != 3000 || pr.GetChangedFiles() != 3001 {
		t.Errorf("listed %d files, changed_files %d; want 3000 and 3001", total, pr.GetChangedFiles())
	}
}

func TestHeadBranchDeletionClosesPR(t *testing.T) {
	e, bot := newRepoEmulator(t, emulator.Options{})
	if _, err := e.Push("acme/gitops", "gone", "alice", "c", map[string]*string{"g.txt": emulator.Content("g")}); err != nil {
		t.Fatal(err)
	}
	n, _ := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "gone", Head: "gone"})
	if err := e.DeleteBranch("acme/gitops", "gone", "alice"); err != nil {
		t.Fatal(err)
	}
	pr, _ := e.GetPullRequest("acme/gitops", n)
	if pr.State != "closed" || pr.Merged {
		t.Errorf("PR after head deletion = %s merged %v", pr.State, pr.Merged)
	}
	_, _, err := bot.PullRequests.Edit(context.Background(), "acme", "gitops", n, &github.PullRequest{State: str("open")})
	expectStatus(t, err, 422, "")
}
