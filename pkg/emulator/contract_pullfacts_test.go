package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"
)

type pullFactsQuery struct {
	Repository struct {
		DefaultBranchRef struct {
			Name   string
			Target struct{ Oid string }
		}
		PullRequest struct {
			Merged       bool
			MergeCommit  *struct{ Oid string }
			HeadRefOid   string
			BaseRefName  string
			ChangedFiles int
			Labels       struct {
				Nodes []struct{ Name string }
			} `graphql:"labels(first: 100)"`
		} `graphql:"pullRequest(number: $number)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

// One GraphQL query reads what the planner confirms of a merged PR, with the
// default branch head; PATCH issues/{n} replaces labels and assignees at once.
func TestContractPullFactsAndIssueUpdate(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	pr, _ := env.openPR(t, map[string]*string{"facts/a.txt": str("a\n"), "facts/b.txt": str("b\n")})
	n := pr.GetNumber()
	labels := []string{"promotion", "facts"}
	issue, _, err := env.client.Issues.Edit(ctx, env.owner, env.repo, n, &github.IssueRequest{Labels: &labels, Assignees: &[]string{env.botLogin}})
	if err != nil {
		t.Fatal(err)
	}
	if len(issue.Labels) != 2 || len(issue.Assignees) != 1 || issue.Assignees[0].GetLogin() != env.botLogin {
		t.Fatalf("issue after PATCH: labels %v, assignees %v", issue.Labels, issue.Assignees)
	}
	// Replacing: one label left, no assignee.
	one := []string{"facts"}
	if issue, _, err = env.client.Issues.Edit(ctx, env.owner, env.repo, n, &github.IssueRequest{Labels: &one, Assignees: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	if len(issue.Labels) != 1 || issue.Labels[0].GetName() != "facts" || len(issue.Assignees) != 0 {
		t.Fatalf("issue after the second PATCH: labels %v, assignees %v", issue.Labels, issue.Assignees)
	}

	var q pullFactsQuery
	vars := map[string]any{"owner": githubv4.String(env.owner), "name": githubv4.String(env.repo), "number": githubv4.Int(n)}
	if err := env.graphql().Query(ctx, &q, vars); err != nil {
		t.Fatal(err)
	}
	p := q.Repository.PullRequest
	if p.Merged || p.MergeCommit != nil || p.HeadRefOid != pr.GetHead().GetSHA() || p.BaseRefName != env.defaultBranch ||
		p.ChangedFiles != 2 || len(p.Labels.Nodes) != 1 || p.Labels.Nodes[0].Name != "facts" {
		t.Fatalf("pull request facts %+v", p)
	}
	if d := q.Repository.DefaultBranchRef; d.Name != env.defaultBranch || d.Target.Oid != env.headSHA(t, env.defaultBranch) {
		t.Fatalf("default branch %+v", d)
	}
	if _, _, err := env.client.PullRequests.Merge(ctx, env.owner, env.repo, n, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := env.graphql().Query(ctx, &q, vars); err != nil {
		t.Fatal(err)
	}
	p = q.Repository.PullRequest
	if !p.Merged || p.MergeCommit == nil || !strings.EqualFold(p.MergeCommit.Oid, q.Repository.DefaultBranchRef.Target.Oid) {
		t.Fatalf("after the merge: %+v, default head %s", p, q.Repository.DefaultBranchRef.Target.Oid)
	}
}
