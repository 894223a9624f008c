package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
)

func TestContractPullRequestLifecycle(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	branch := env.branch(t, "life")
	env.commit(t, branch, map[string]*string{"life/a.txt": str("a\n")})

	_, _, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{
		Title: str("missing head"), Head: str(branch + "-missing"), Base: str(env.defaultBranch)})
	expectStatus(t, err, http.StatusUnprocessableEntity, "Validation Failed")

	pr, resp, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{
		Title: str("Lifecycle"), Head: str(branch), Base: str(env.defaultBranch), Body: str("first body")})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, _ = env.client.PullRequests.Edit(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequest{State: str("closed")})
	})
	if pr.GetState() != "open" || pr.GetUser().GetLogin() != env.botLogin || pr.GetHead().GetRef() != branch || pr.GetMerged() {
		t.Errorf("created PR = state %s user %s head %s", pr.GetState(), pr.GetUser().GetLogin(), pr.GetHead().GetRef())
	}

	t.Run("a second PR for the same head and base is refused", func(t *testing.T) {
		_, _, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{
			Title: str("dup"), Head: str(env.owner + ":" + branch), Base: str(env.defaultBranch)})
		expectStatus(t, err, http.StatusUnprocessableEntity, "A pull request already exists for "+env.owner+":"+branch)
	})

	t.Run("a head given as refs/heads/<branch> is accepted", func(t *testing.T) {
		other := env.branch(t, "fullref")
		env.commit(t, other, map[string]*string{"fullref/a.txt": str("a\n")})
		pr, resp, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{
			Title: str("full ref"), Head: str("refs/heads/" + other), Base: str(env.defaultBranch)})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("create with head refs/heads/%s: %v", other, err)
		}
		t.Cleanup(func() {
			_, _, _ = env.client.PullRequests.Edit(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequest{State: str("closed")})
		})
		if pr.GetHead().GetRef() != other {
			t.Errorf("head ref = %q, want %q", pr.GetHead().GetRef(), other)
		}
	})

	t.Run("no commits between base and head", func(t *testing.T) {
		empty := env.branch(t, "empty")
		_, _, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{
			Title: str("empty"), Head: str(empty), Base: str(env.defaultBranch)})
		expectStatus(t, err, http.StatusUnprocessableEntity, "No commits between")
	})

	t.Run("first read leaves mergeable null", func(t *testing.T) {
		env.emulatorOnly(t) // GitHub may finish computing it before the first read
		first, _, err := env.client.PullRequests.Get(ctx, env.owner, env.repo, pr.GetNumber())
		if err != nil {
			t.Fatal(err)
		}
		if first.Mergeable != nil {
			t.Errorf("first read mergeable = %v, want null", first.GetMergeable())
		}
	})

	t.Run("mergeable is computed after the first read", func(t *testing.T) {
		got := waitMergeable(t, env, pr.GetNumber())
		if !got.GetMergeable() || got.GetMergeableState() == "unknown" || got.GetMergeableState() == "dirty" {
			t.Errorf("mergeable = %v state %s", got.GetMergeable(), got.GetMergeableState())
		}
		if got.GetCommits() != 1 || got.GetChangedFiles() != 1 || got.GetAdditions() != 1 {
			t.Errorf("stats = %d commits %d files +%d", got.GetCommits(), got.GetChangedFiles(), got.GetAdditions())
		}
	})

	t.Run("edit title and body", func(t *testing.T) {
		edited, _, err := env.client.PullRequests.Edit(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequest{
			Title: str("Lifecycle (edited)"), Body: str("second body")})
		if err != nil || edited.GetTitle() != "Lifecycle (edited)" || edited.GetBody() != "second body" {
			t.Fatalf("edit = %v, %v", edited.GetTitle(), err)
		}
	})

	t.Run("list with filters", func(t *testing.T) {
		list, _, err := env.client.PullRequests.List(ctx, env.owner, env.repo, &github.PullRequestListOptions{
			Head: env.owner + ":" + branch, Base: env.defaultBranch})
		if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
			t.Fatalf("list by head = %d PRs, %v", len(list), err)
		}
		closed, _, err := env.client.PullRequests.List(ctx, env.owner, env.repo, &github.PullRequestListOptions{
			State: "closed", Head: env.owner + ":" + branch})
		if err != nil || len(closed) != 0 {
			t.Fatalf("closed list = %d, %v", len(closed), err)
		}
	})

	t.Run("merge refuses a stale head SHA", func(t *testing.T) {
		_, _, err := env.client.PullRequests.Merge(ctx, env.owner, env.repo, pr.GetNumber(), "", &github.PullRequestOptions{SHA: strings.Repeat("ab", 20)})
		expectStatus(t, err, http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	})

	t.Run("merge", func(t *testing.T) {
		head := env.headSHA(t, branch)
		res, _, err := env.client.PullRequests.Merge(ctx, env.owner, env.repo, pr.GetNumber(), "", &github.PullRequestOptions{
			SHA: head, CommitTitle: "Auto-merge"})
		if err != nil || !res.GetMerged() {
			t.Fatalf("merge: %v", err)
		}
		if env.headSHA(t, env.defaultBranch) != res.GetSHA() {
			t.Error("default branch does not point at the merge commit")
		}
		mc, _, err := env.client.Git.GetCommit(ctx, env.owner, env.repo, res.GetSHA())
		if err != nil {
			t.Fatal(err)
		}
		if len(mc.Parents) != 2 || mc.Parents[1].GetSHA() != head || !strings.HasPrefix(mc.GetMessage(), "Auto-merge") {
			t.Errorf("merge commit parents %d message %q", len(mc.Parents), mc.GetMessage())
		}
		got, _, err := env.client.PullRequests.Get(ctx, env.owner, env.repo, pr.GetNumber())
		if err != nil || !got.GetMerged() || got.GetState() != "closed" || got.MergedAt == nil || got.GetMergeCommitSHA() != res.GetSHA() {
			t.Errorf("merged PR = merged %v state %s merge sha %s", got.GetMerged(), got.GetState(), got.GetMergeCommitSHA())
		}
		_, _, err = env.client.PullRequests.Merge(ctx, env.owner, env.repo, pr.GetNumber(), "", nil)
		expectStatus(t, err, http.StatusMethodNotAllowed, "")
		files, _, err := env.client.PullRequests.ListFiles(ctx, env.owner, env.repo, pr.GetNumber(), nil)
		if err != nil || len(files) != 1 || files[0].GetFilename() != "life/a.txt" {
			t.Errorf("files of merged PR = %v, %v", files, err)
		}
	})
}

func waitMergeable(t *testing.T, env *contractEnv, number int) *github.PullRequest {
	t.Helper()
	for i := 0; i < 30; i++ {
		pr, _, err := env.client.PullRequests.Get(context.Background(), env.owner, env.repo, number)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Mergeable != nil {
			return pr
		}
		time.Sleep(time.Duration(i*100) * time.Millisecond)
	}
	t.Fatal("mergeable never computed")
	return nil
}

func TestContractMergeConflict(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	a, branchA := env.openPR(t, map[string]*string{"conflict/file.txt": str("from A\n")})
	b, _ := env.openPR(t, map[string]*string{"conflict/file.txt": str("from B\n")})
	if _, _, err := env.client.PullRequests.Merge(ctx, env.owner, env.repo, a.GetNumber(), "", nil); err != nil {
		t.Fatal(err)
	}
	_ = branchA
	got := waitMergeable(t, env, b.GetNumber())
	if got.GetMergeable() || got.GetMergeableState() != "dirty" {
		t.Errorf("conflicting PR mergeable %v state %s", got.GetMergeable(), got.GetMergeableState())
	}
	_, _, err := env.client.PullRequests.Merge(ctx, env.owner, env.repo, b.GetNumber(), "", nil)
	expectStatus(t, err, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
}

func TestContractPullRequestFiles(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	branch := env.branch(t, "files")
	// Prepare a file to rename, then rename it (same content), modify one, delete one, add some.
	env.commit(t, branch, nil)
	head := env.headSHA(t, branch)
	hc, _, _ := env.client.Git.GetCommit(ctx, env.owner, env.repo, head)
	entries := []*github.TreeEntry{
		{Path: str("env/dev/app/service.yaml"), Mode: str("100644"), Type: str("blob")},
		{Path: str("env/dev/app/svc.yaml"), Mode: str("100644"), Type: str("blob"), Content: str("port: 80\n")},
		{Path: str("env/dev/app/deployment.yaml"), Mode: str("100644"), Type: str("blob"), Content: str("replicas: 2\nimage: app:1\n")},
		{Path: str("env/prod/app/legacy.yaml"), Mode: str("100644"), Type: str("blob")},
	}
	for i := 0; i < 5; i++ {
		entries = append(entries, &github.TreeEntry{Path: str(fmt.Sprintf("files/new-%d.txt", i)), Mode: str("100644"), Type: str("blob"), Content: str(fmt.Sprintf("n%d\n", i))})
	}
	tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, hc.GetTree().GetSHA(), entries)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := env.client.Git.CreateCommit(ctx, env.owner, env.repo, &github.Commit{Message: str("files"), Tree: tree, Parents: []*github.Commit{{SHA: str(head)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.client.Git.UpdateRef(ctx, env.owner, env.repo, &github.Reference{Ref: str("refs/heads/" + branch), Object: &github.GitObject{SHA: c.SHA}}, false); err != nil {
		t.Fatal(err)
	}
	pr, _, err := env.client.PullRequests.Create(ctx, env.owner, env.repo, &github.NewPullRequest{Title: str("files"), Head: str(branch), Base: str(env.defaultBranch)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, _ = env.client.PullRequests.Edit(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequest{State: str("closed")})
	})
	var all []*github.CommitFile
	opts := &github.ListOptions{PerPage: 3}
	pages := 0
	for {
		files, resp, err := env.client.PullRequests.ListFiles(ctx, env.owner, env.repo, pr.GetNumber(), opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, files...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 8 {
		t.Fatalf("got %d files over %d pages, want 8 over 3", len(all), pages)
	}
	byName := map[string]*github.CommitFile{}
	for _, f := range all {
		byName[f.GetFilename()] = f
	}
	if f := byName["env/dev/app/svc.yaml"]; f.GetStatus() != "renamed" || f.GetPreviousFilename() != "env/dev/app/service.yaml" {
		t.Errorf("rename = %s from %q", f.GetStatus(), f.GetPreviousFilename())
	}
	if f := byName["env/dev/app/deployment.yaml"]; f.GetStatus() != "modified" || f.GetAdditions() != 1 || f.GetDeletions() != 1 || !strings.Contains(f.GetPatch(), "+replicas: 2") {
		t.Errorf("modified = %s +%d -%d patch %q", f.GetStatus(), f.GetAdditions(), f.GetDeletions(), f.GetPatch())
	}
	if f := byName["env/prod/app/legacy.yaml"]; f.GetStatus() != "removed" {
		t.Errorf("removed = %s", f.GetStatus())
	}
	if f := byName["files/new-0.txt"]; f.GetStatus() != "added" || f.GetAdditions() != 1 {
		t.Errorf("added = %s", f.GetStatus())
	}
}

func TestContractReviews(t *testing.T) {
	env := newContractEnv(t)
	if env.approver == nil {
		t.Skip("needs GITHUB_CONTRACT_APPROVER_TOKEN")
	}
	ctx := context.Background()
	pr, _ := env.openPR(t, map[string]*string{"reviews/a.txt": str("a\n")})
	_, _, err := env.client.PullRequests.CreateReview(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequestReviewRequest{Event: str("APPROVE")})
	expectStatus(t, err, http.StatusUnprocessableEntity, "Can not approve your own pull request")
	rv, _, err := env.approver.PullRequests.CreateReview(ctx, env.owner, env.repo, pr.GetNumber(), &github.PullRequestReviewRequest{Event: str("APPROVE")})
	if err != nil || rv.GetState() != "APPROVED" || rv.GetCommitID() != pr.GetHead().GetSHA() {
		t.Fatalf("approve = %v, %v", rv, err)
	}
	list, _, err := env.client.PullRequests.ListReviews(ctx, env.owner, env.repo, pr.GetNumber(), nil)
	if err != nil || len(list) != 1 || list[0].GetUser().GetLogin() == env.botLogin {
		t.Fatalf("reviews = %v, %v", list, err)
	}
}
