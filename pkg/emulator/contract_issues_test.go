package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-github/v52/github"
)

func TestContractIssueComments(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	pr, _ := env.openPR(t, map[string]*string{"comments/a.txt": str("a\n")})
	n := pr.GetNumber()
	var ids []int64
	for i := 0; i < 5; i++ {
		c, resp, err := env.client.Issues.CreateComment(ctx, env.owner, env.repo, n, &github.IssueComment{Body: str(fmt.Sprintf("comment %d", i))})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatal(err)
		}
		if c.GetUser().GetLogin() != env.botLogin || c.GetNodeID() == "" {
			t.Errorf("comment user %s node id %q", c.GetUser().GetLogin(), c.GetNodeID())
		}
		ids = append(ids, c.GetID())
	}
	_, _, err := env.client.Issues.CreateComment(ctx, env.owner, env.repo, n, &github.IssueComment{Body: str("")})
	expectStatus(t, err, http.StatusUnprocessableEntity, "")

	var bodies []string
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	for {
		page, resp, err := env.client.Issues.ListComments(ctx, env.owner, env.repo, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			bodies = append(bodies, c.GetBody())
		}
		if resp.NextPage == 0 {
			if resp.LastPage != 0 {
				t.Errorf("last page still links to page %d", resp.LastPage)
			}
			break
		}
		opts.Page = resp.NextPage
	}
	if want := []string{"comment 0", "comment 1", "comment 2", "comment 3", "comment 4"}; !slices.Equal(bodies, want) {
		t.Errorf("paged comments = %v", bodies)
	}
	edited, _, err := env.client.Issues.EditComment(ctx, env.owner, env.repo, ids[1], &github.IssueComment{Body: str("edited")})
	if err != nil || edited.GetBody() != "edited" {
		t.Fatalf("edit = %v", err)
	}
	got, _, err := env.client.Issues.GetComment(ctx, env.owner, env.repo, ids[1])
	if err != nil || got.GetBody() != "edited" {
		t.Fatalf("get = %v", err)
	}
	if _, err := env.client.Issues.DeleteComment(ctx, env.owner, env.repo, ids[0]); err != nil {
		t.Fatal(err)
	}
	_, _, err = env.client.Issues.GetComment(ctx, env.owner, env.repo, ids[0])
	expectStatus(t, err, http.StatusNotFound, "")
	_, _, err = env.client.Issues.CreateComment(ctx, env.owner, env.repo, 999999, &github.IssueComment{Body: str("x")})
	expectStatus(t, err, http.StatusNotFound, "")
}

func TestContractLabelsAndAssignees(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	pr, _ := env.openPR(t, map[string]*string{"labels/a.txt": str("a\n")})
	n := pr.GetNumber()
	fresh := uniqueName("label")
	labels, _, err := env.client.Issues.AddLabelsToIssue(ctx, env.owner, env.repo, n, []string{"promotion", fresh})
	if err != nil {
		t.Fatal(err)
	}
	names := func(ls []*github.Label) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.GetName())
		}
		slices.Sort(out)
		return out
	}
	if got := names(labels); !slices.Equal(got, []string{fresh, "promotion"}) {
		t.Errorf("labels after add = %v", got)
	}
	listed, _, err := env.client.Issues.ListLabelsByIssue(ctx, env.owner, env.repo, n, nil)
	if err != nil || !slices.Equal(names(listed), names(labels)) {
		t.Errorf("listed = %v, %v", names(listed), err)
	}
	if _, err := env.client.Issues.RemoveLabelForIssue(ctx, env.owner, env.repo, n, fresh); err != nil {
		t.Fatal(err)
	}
	_, err = env.client.Issues.RemoveLabelForIssue(ctx, env.owner, env.repo, n, fresh)
	expectStatus(t, err, http.StatusNotFound, "Label does not exist")
	replaced, _, err := env.client.Issues.ReplaceLabelsForIssue(ctx, env.owner, env.repo, n, []string{"noop"})
	if err != nil || !slices.Equal(names(replaced), []string{"noop"}) {
		t.Errorf("replaced = %v, %v", names(replaced), err)
	}
	is, resp, err := env.client.Issues.AddAssignees(ctx, env.owner, env.repo, n, []string{env.botLogin})
	if err != nil || resp.StatusCode != http.StatusCreated || len(is.Assignees) != 1 || is.Assignees[0].GetLogin() != env.botLogin {
		t.Fatalf("assignees = %v, %v", is.Assignees, err)
	}
	got, _, err := env.client.PullRequests.Get(ctx, env.owner, env.repo, n)
	if err != nil || got.GetAssignee().GetLogin() != env.botLogin || !slices.Equal(names(got.Labels), []string{"noop"}) {
		t.Errorf("PR assignee %s labels %v", got.GetAssignee().GetLogin(), names(got.Labels))
	}
}

func TestContractCommitStatuses(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	branch := env.branch(t, "status")
	sha := env.commit(t, branch, map[string]*string{"status/a.txt": str("a\n")})
	combined, _, err := env.client.Repositories.GetCombinedStatus(ctx, env.owner, env.repo, sha, nil)
	if err != nil || combined.GetState() != "pending" || combined.GetTotalCount() != 0 {
		t.Fatalf("combined without statuses = %s (%d), %v", combined.GetState(), combined.GetTotalCount(), err)
	}
	for _, st := range []struct{ state, ctx string }{{"pending", "telefonistka"}, {"success", "telefonistka"}, {"success", "ci"}} {
		s, resp, err := env.client.Repositories.CreateStatus(ctx, env.owner, env.repo, sha, &github.RepoStatus{
			State: str(st.state), Context: str(st.ctx), Description: str("Telefonistka GitOps Bot"), TargetURL: str("https://example.com/x")})
		if err != nil || resp.StatusCode != http.StatusCreated || s.GetState() != st.state || s.GetCreator().GetLogin() != env.botLogin {
			t.Fatalf("create status: %v", err)
		}
	}
	list, _, err := env.client.Repositories.ListStatuses(ctx, env.owner, env.repo, sha, nil)
	if err != nil || len(list) != 3 || list[0].GetContext() != "ci" {
		t.Fatalf("statuses (newest first) = %d, %v", len(list), err)
	}
	byBranch, _, err := env.client.Repositories.ListStatuses(ctx, env.owner, env.repo, branch, nil)
	if err != nil || len(byBranch) != 3 {
		t.Errorf("statuses by branch = %d, %v", len(byBranch), err)
	}
	combined, _, err = env.client.Repositories.GetCombinedStatus(ctx, env.owner, env.repo, sha, nil)
	if err != nil || combined.GetState() != "success" || combined.GetTotalCount() != 2 {
		t.Fatalf("combined = %s (%d), %v", combined.GetState(), combined.GetTotalCount(), err)
	}
	if _, _, err := env.client.Repositories.CreateStatus(ctx, env.owner, env.repo, sha, &github.RepoStatus{State: str("error"), Context: str("ci")}); err != nil {
		t.Fatal(err)
	}
	combined, _, _ = env.client.Repositories.GetCombinedStatus(ctx, env.owner, env.repo, sha, nil)
	if combined.GetState() != "failure" {
		t.Errorf("combined after an error = %s, want failure", combined.GetState())
	}
	_, _, err = env.client.Repositories.CreateStatus(ctx, env.owner, env.repo, sha, &github.RepoStatus{State: str("done")})
	expectStatus(t, err, http.StatusUnprocessableEntity, "")
}

func TestContractCommitsAndCompare(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	main0 := env.headSHA(t, env.defaultBranch)
	left := env.branch(t, "left")
	right := env.branch(t, "right")
	l1 := env.commit(t, left, map[string]*string{"cmp/l.txt": str("l1\n")})
	l2 := env.commit(t, left, map[string]*string{"cmp/l.txt": str("l2\n"), "cmp/l2.txt": str("x\n")})
	env.commit(t, right, map[string]*string{"cmp/r.txt": str("r\n")})

	rc, _, err := env.client.Repositories.GetCommit(ctx, env.owner, env.repo, left, nil)
	if err != nil || rc.GetSHA() != l2 || len(rc.Files) != 2 || rc.GetStats().GetAdditions() != 2 {
		t.Fatalf("commit by branch = %s files %d, %v", rc.GetSHA(), len(rc.Files), err)
	}
	sha, _, err := env.client.Repositories.GetCommitSHA1(ctx, env.owner, env.repo, left, "")
	if err != nil || sha != l2 {
		t.Errorf("commit SHA1 = %s, %v", sha, err)
	}
	cmp, _, err := env.client.Repositories.CompareCommits(ctx, env.owner, env.repo, env.defaultBranch, left, nil)
	if err != nil || cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 2 || cmp.GetBehindBy() != 0 ||
		cmp.GetMergeBaseCommit().GetSHA() != main0 || len(cmp.Commits) != 2 || cmp.Commits[0].GetSHA() != l1 || len(cmp.Files) != 2 {
		t.Fatalf("compare main...left = %s +%d -%d base %s, %v", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), cmp.GetMergeBaseCommit().GetSHA(), err)
	}
	cmp, _, err = env.client.Repositories.CompareCommits(ctx, env.owner, env.repo, left, env.defaultBranch, nil)
	if err != nil || cmp.GetStatus() != "behind" || cmp.GetBehindBy() != 2 {
		t.Errorf("compare left...main = %s, %v", cmp.GetStatus(), err)
	}
	cmp, _, err = env.client.Repositories.CompareCommits(ctx, env.owner, env.repo, left, right, nil)
	if err != nil || cmp.GetStatus() != "diverged" || cmp.GetAheadBy() != 1 || cmp.GetBehindBy() != 2 {
		t.Errorf("compare left...right = %s +%d -%d, %v", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), err)
	}
	cmp, _, err = env.client.Repositories.CompareCommits(ctx, env.owner, env.repo, left, l2, nil)
	if err != nil || cmp.GetStatus() != "identical" {
		t.Errorf("compare with itself = %s, %v", cmp.GetStatus(), err)
	}
	_, _, err = env.client.Repositories.GetCommit(ctx, env.owner, env.repo, "no-such-branch-"+uniqueName("x"), nil)
	expectStatus(t, err, http.StatusUnprocessableEntity, "No commit found")
}

func TestContractUserAndRateLimit(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	u, _, err := env.client.Users.Get(ctx, "")
	if err != nil || u.GetLogin() == "" || u.GetID() == 0 {
		t.Fatalf("user = %v, %v", u, err)
	}
	limits, _, err := env.client.RateLimits(ctx)
	if err != nil || limits.GetCore().Limit == 0 || limits.GetCore().Remaining > limits.GetCore().Limit {
		t.Fatalf("rate limits = %+v, %v", limits, err)
	}
	baseURL := "" // real GitHub
	if env.emu != nil {
		baseURL = env.emu.URL()
	}
	bad := clientFor(t, baseURL, "wrong-token")
	_, _, err = bad.Users.Get(ctx, "")
	expectStatus(t, err, http.StatusUnauthorized, "Bad credentials")
}
