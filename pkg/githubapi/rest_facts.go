package githubapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// PullFacts is a pull request as GitHub has it now, with its repository's
// default branch and that branch's head, read in one GraphQL query.
type PullFacts struct {
	Pull Pull
	// DefaultHead is the default branch's head commit.
	DefaultHead string
}

type pullFactsQuery struct {
	Repository struct {
		DefaultBranchRef *struct {
			Name   string
			Target *struct{ Oid string }
		}
		PullRequest struct {
			Number       int
			State        string
			Merged       bool
			Title        string
			Body         string
			URL          string
			HeadRefName  string
			HeadRefOid   string
			BaseRefName  string
			MergeCommit  *struct{ Oid string }
			ChangedFiles int
			Author       *struct {
				Typename string `graphql:"__typename"`
				Login    string
			}
			Labels *struct {
				Nodes []struct{ Name string }
			} `graphql:"labels(first: 100)"`
		} `graphql:"pullRequest(number: $number)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

// PullFacts reads pull request number and the default branch head in one
// call (GraphQL): what a merge is confirmed with, without trusting the
// webhook payload. At most 100 labels are read.
func (g *GitHub) PullFacts(ctx context.Context, repo events.Repo, number int) (PullFacts, error) {
	gql, err := g.graphql(ctx, repo)
	if err != nil {
		return PullFacts{}, err
	}
	var q pullFactsQuery
	vars := map[string]any{"owner": githubv4.String(repo.Owner), "name": githubv4.String(repo.Name), "number": githubv4.Int(int32(number))}
	if err := gql.Query(ctx, &q, vars); err != nil {
		return PullFacts{}, Classify(fmt.Errorf("reading %s#%d and the default branch: %w", repo, number, err))
	}
	p := q.Repository.PullRequest
	out := PullFacts{Pull: Pull{
		Number: p.Number, URL: p.URL, State: strings.ToLower(p.State), Merged: p.Merged, Title: p.Title, Body: p.Body,
		HeadRef: p.HeadRefName, HeadSHA: p.HeadRefOid, BaseRef: p.BaseRefName, ChangedFiles: p.ChangedFiles,
	}}
	if out.Pull.State == "merged" {
		out.Pull.State = "closed"
	}
	if p.MergeCommit != nil {
		out.Pull.MergeCommit = p.MergeCommit.Oid
	}
	if a := p.Author; a != nil {
		// As REST names them: a bot's login ends in "[bot]".
		out.Pull.Author = a.Login
		if a.Typename == "Bot" && !strings.HasSuffix(a.Login, "[bot]") {
			out.Pull.Author += "[bot]"
		}
	}
	if p.Labels != nil {
		for _, l := range p.Labels.Nodes {
			out.Pull.Labels = append(out.Pull.Labels, l.Name)
		}
	}
	if d := q.Repository.DefaultBranchRef; d != nil {
		out.Pull.DefaultBranch = d.Name
		if d.Target != nil {
			out.DefaultHead = d.Target.Oid
		}
	}
	return out, nil
}

func (g *GitHub) graphql(ctx context.Context, repo events.Repo) (*githubv4.Client, error) {
	c, err := g.clients.GraphQLForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, fmt.Errorf("getting a GitHub GraphQL client for %s: %w", repo.Owner, err)
	}
	return c, nil
}

// IssueUpdate replaces an issue's (or pull request's) labels and assignees
// in one call.
type IssueUpdate struct {
	Labels    []string
	Assignees []string
}

// UpdateIssue sets the labels and assignees of issue or pull request number
// to exactly u's (one write; GitHub creates missing labels).
func (g *GitHub) UpdateIssue(ctx context.Context, repo events.Repo, number int, u IssueUpdate) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	labels, assignees := u.Labels, u.Assignees
	if labels == nil {
		labels = []string{}
	}
	if assignees == nil {
		assignees = []string{}
	}
	if _, _, err := c.Issues.Edit(ctx, repo.Owner, repo.Name, number, &github.IssueRequest{Labels: &labels, Assignees: &assignees}); err != nil {
		return fail(err, "labelling and assigning %s#%d", repo, number)
	}
	return nil
}
