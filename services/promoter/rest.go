package promoter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// NewGitHub returns the go-github adapter of GitHub.
func NewGitHub(clients Clients) GitHub { return &restGitHub{clients: clients} }

type restGitHub struct{ clients Clients }

func (g *restGitHub) client(ctx context.Context, repo events.Repo) (*github.Client, error) {
	c, err := g.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, fmt.Errorf("getting a GitHub client for %s: %w", repo.Owner, err)
	}
	return c, nil
}

// fail classifies err after saying what was being done.
func fail(err error, format string, args ...any) error {
	return githubapi.Classify(fmt.Errorf(format+": %w", append(args, err)...))
}

func (g *restGitHub) BranchHead(ctx context.Context, repo events.Repo, branch string) (string, bool, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", false, err
	}
	ref, _, err := c.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if statusOf(err) == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fail(err, "resolving branch %s of %s", branch, repo)
	}
	return ref.GetObject().GetSHA(), true, nil
}

func (g *restGitHub) Tree(ctx context.Context, repo events.Repo, commit string) (treesync.Tree, string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, "", err
	}
	t, _, err := c.Git.GetTree(ctx, repo.Owner, repo.Name, commit, true)
	if err != nil {
		return nil, "", fail(err, "reading the tree of %s at %s", repo, commit)
	}
	if t.GetTruncated() {
		return nil, "", fmt.Errorf("the tree of %s at %s has more entries than GitHub lists in one read", repo, commit)
	}
	out := make(treesync.Tree, len(t.Entries))
	for _, e := range t.Entries {
		out[e.GetPath()] = treesync.Entry{Mode: e.GetMode(), Type: e.GetType(), SHA: e.GetSHA()}
	}
	return out, t.GetSHA(), nil
}

func (g *restGitHub) CreateTree(ctx context.Context, repo events.Repo, baseTree string, changes []treesync.Change) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	entries := make([]*github.TreeEntry, len(changes))
	for i, ch := range changes {
		e := &github.TreeEntry{Path: github.String(ch.Path), Mode: github.String(ch.Mode), Type: github.String(ch.Type)}
		if !ch.Delete {
			e.SHA = github.String(ch.SHA)
		}
		entries[i] = e
	}
	t, _, err := c.Git.CreateTree(ctx, repo.Owner, repo.Name, baseTree, entries)
	if err != nil {
		return "", fail(err, "creating a tree of %d changes in %s", len(changes), repo)
	}
	return t.GetSHA(), nil
}

func (g *restGitHub) CreateCommit(ctx context.Context, repo events.Repo, message, tree string, parents []string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	commit := &github.Commit{Message: github.String(message), Tree: &github.Tree{SHA: github.String(tree)}}
	for _, p := range parents {
		commit.Parents = append(commit.Parents, &github.Commit{SHA: github.String(p)})
	}
	out, _, err := c.Git.CreateCommit(ctx, repo.Owner, repo.Name, commit)
	if err != nil {
		return "", fail(err, "creating a commit in %s", repo)
	}
	return out.GetSHA(), nil
}

func (g *restGitHub) CommitTree(ctx context.Context, repo events.Repo, sha string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	out, _, err := c.Git.GetCommit(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return "", fail(err, "reading commit %s of %s", sha, repo)
	}
	return out.GetTree().GetSHA(), nil
}

func (g *restGitHub) CreateBranch(ctx context.Context, repo events.Repo, branch, sha string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
	_, _, err = c.Git.CreateRef(ctx, repo.Owner, repo.Name, ref)
	if statusOf(err) == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(messageOf(err)), "already exists") {
		return ErrBranchExists
	}
	if err != nil {
		return fail(err, "creating branch %s of %s", branch, repo)
	}
	return nil
}

func (g *restGitHub) ForceBranch(ctx context.Context, repo events.Repo, branch, sha string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
	_, _, err = c.Git.UpdateRef(ctx, repo.Owner, repo.Name, ref, true)
	if statusOf(err) == http.StatusUnprocessableEntity && strings.Contains(messageOf(err), "does not exist") {
		if err := g.CreateBranch(ctx, repo, branch, sha); !errors.Is(err, ErrBranchExists) {
			return err
		}
		_, _, err = c.Git.UpdateRef(ctx, repo.Owner, repo.Name, ref, true)
	}
	if err != nil {
		return fail(err, "moving branch %s of %s to %s", branch, repo, sha)
	}
	return nil
}

func pullOf(p *github.PullRequest) Pull {
	return Pull{
		Number: p.GetNumber(), URL: p.GetHTMLURL(), State: p.GetState(),
		Merged:  p.GetMerged() || p.MergedAt != nil,
		HeadRef: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), Body: p.GetBody(),
	}
}

func (g *restGitHub) listPulls(ctx context.Context, repo events.Repo, opts *github.PullRequestListOptions) ([]Pull, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	opts.PerPage = 100
	var out []Pull
	for {
		prs, resp, err := c.PullRequests.List(ctx, repo.Owner, repo.Name, opts)
		if err != nil {
			return nil, fail(err, "listing pull requests of %s", repo)
		}
		for _, p := range prs {
			out = append(out, pullOf(p))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func (g *restGitHub) OpenPulls(ctx context.Context, repo events.Repo, base string) ([]Pull, error) {
	return g.listPulls(ctx, repo, &github.PullRequestListOptions{State: "open", Base: base})
}

func (g *restGitHub) BranchPulls(ctx context.Context, repo events.Repo, branch string) ([]Pull, error) {
	return g.listPulls(ctx, repo, &github.PullRequestListOptions{State: "all", Head: repo.Owner + ":" + branch})
}

func (g *restGitHub) CreatePull(ctx context.Context, repo events.Repo, title, head, base, body string) (Pull, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Pull{}, err
	}
	p, _, err := c.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(title), Head: github.String(head), Base: github.String(base), Body: github.String(body),
	})
	if statusOf(err) == http.StatusUnprocessableEntity && strings.Contains(messageOf(err), "already exists") {
		return Pull{}, ErrPullExists
	}
	if err != nil {
		return Pull{}, fail(err, "opening a pull request from %s in %s", head, repo)
	}
	return pullOf(p), nil
}

func (g *restGitHub) EditPull(ctx context.Context, repo events.Repo, number int, title, body string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, _, err = c.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{Title: github.String(title), Body: github.String(body)})
	if err != nil {
		return fail(err, "editing %s#%d", repo, number)
	}
	return nil
}

func (g *restGitHub) ClosePull(ctx context.Context, repo events.Repo, number int) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, _, err = c.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{State: github.String("closed")})
	if err != nil {
		return fail(err, "closing %s#%d", repo, number)
	}
	return nil
}

func (g *restGitHub) AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, _, err := c.Issues.AddLabelsToIssue(ctx, repo.Owner, repo.Name, number, labels); err != nil {
		return fail(err, "labelling %s#%d", repo, number)
	}
	return nil
}

func (g *restGitHub) AddAssignees(ctx context.Context, repo events.Repo, number int, logins []string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, _, err := c.Issues.AddAssignees(ctx, repo.Owner, repo.Name, number, logins); err != nil {
		return fail(err, "assigning %s#%d", repo, number)
	}
	return nil
}

func (g *restGitHub) Approve(ctx context.Context, repo events.Repo, number int) error {
	c, err := g.clients.ApproverForOwner(ctx, repo.Owner)
	if err != nil {
		return err
	}
	_, _, err = c.PullRequests.CreateReview(ctx, repo.Owner, repo.Name, number, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	if err != nil {
		return fail(err, "approving %s#%d", repo, number)
	}
	return nil
}

func (g *restGitHub) Merge(ctx context.Context, repo events.Repo, number int, commitTitle string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	res, _, err := c.PullRequests.Merge(ctx, repo.Owner, repo.Name, number, "", &github.PullRequestOptions{CommitTitle: commitTitle})
	if err != nil {
		if isTryMergeAgain(err) {
			return "", err // the caller retries these itself
		}
		return "", fail(err, "merging %s#%d", repo, number)
	}
	return res.GetSHA(), nil
}

func (g *restGitHub) Compare(ctx context.Context, repo events.Repo, base, head string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	cmp, _, err := c.Repositories.CompareCommits(ctx, repo.Owner, repo.Name, base, head, &github.ListOptions{PerPage: 1})
	if err != nil {
		return "", fail(err, "comparing %s...%s in %s", base, head, repo)
	}
	return cmp.GetStatus(), nil
}

func (g *restGitHub) Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	data, _, err := c.Git.GetBlobRaw(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return nil, fail(err, "reading blob %s of %s", sha, repo)
	}
	return data, nil
}

func (g *restGitHub) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, err = githubapi.PostComment(ctx, c.Issues, repo.Owner, repo.Name, number, body)
	return err
}
