package githubapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Pull is a pull request as the services need it.
type Pull struct {
	Number  int
	URL     string
	State   string // open or closed
	Merged  bool
	Title   string
	Body    string
	HeadRef string
	HeadSHA string
	BaseRef string
	// DefaultBranch is the base repository's default branch.
	DefaultBranch string
	// MergeCommit is the merge commit of a merged pull request.
	MergeCommit string
	// ChangedFiles is how many files GitHub says the pull request changes.
	ChangedFiles int
	Author       string
	Labels       []string
	Assignees    []string
}

// PullOf is the Pull of a go-github pull request (a webhook payload's, for one).
func PullOf(p *github.PullRequest) Pull {
	out := Pull{
		Number: p.GetNumber(), URL: p.GetHTMLURL(), State: p.GetState(),
		Merged: p.GetMerged() || p.MergedAt != nil, Title: p.GetTitle(), Body: p.GetBody(),
		HeadRef: p.GetHead().GetRef(), HeadSHA: p.GetHead().GetSHA(), BaseRef: p.GetBase().GetRef(),
		DefaultBranch: p.GetBase().GetRepo().GetDefaultBranch(), MergeCommit: p.GetMergeCommitSHA(),
		ChangedFiles: p.GetChangedFiles(), Author: p.GetUser().GetLogin(),
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	for _, a := range p.Assignees {
		out.Assignees = append(out.Assignees, a.GetLogin())
	}
	return out
}

// Pull reads a pull request.
func (g *GitHub) Pull(ctx context.Context, repo events.Repo, number int) (Pull, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Pull{}, err
	}
	p, _, err := c.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return Pull{}, fail(err, "reading %s#%d", repo, number)
	}
	return PullOf(p), nil
}

func (g *GitHub) listPulls(ctx context.Context, repo events.Repo, opts *github.PullRequestListOptions) ([]Pull, error) {
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
			out = append(out, PullOf(p))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// OpenPulls lists every open pull request into base (every page).
func (g *GitHub) OpenPulls(ctx context.Context, repo events.Repo, base string) ([]Pull, error) {
	return g.listPulls(ctx, repo, &github.PullRequestListOptions{State: "open", Base: base})
}

// BranchPulls lists the pull requests whose head is branch of repo, in
// state "open", "closed" or "all".
func (g *GitHub) BranchPulls(ctx context.Context, repo events.Repo, branch, state string) ([]Pull, error) {
	pulls, err := g.listPulls(ctx, repo, &github.PullRequestListOptions{State: state, Head: repo.Owner + ":" + branch})
	if err != nil {
		return nil, err
	}
	out := pulls[:0]
	for _, p := range pulls { // GitHub matches head loosely on some hosts: keep exact matches
		if p.HeadRef == branch {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreatePull opens a pull request; it returns ErrPullExists when one is
// already open for head.
func (g *GitHub) CreatePull(ctx context.Context, repo events.Repo, title, head, base, body string) (Pull, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Pull{}, err
	}
	p, _, err := c.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(title), Head: github.String(head), Base: github.String(base), Body: github.String(body),
	})
	if unprocessable(err, "already exists") {
		return Pull{}, ErrPullExists
	}
	if err != nil {
		return Pull{}, fail(err, "opening a pull request from %s in %s", head, repo)
	}
	return PullOf(p), nil
}

// EditPull changes a pull request's title and body.
func (g *GitHub) EditPull(ctx context.Context, repo events.Repo, number int, title, body string) error {
	return g.editPull(ctx, repo, number, &github.PullRequest{Title: github.String(title), Body: github.String(body)}, "editing")
}

// ClosePull closes a pull request without merging it.
func (g *GitHub) ClosePull(ctx context.Context, repo events.Repo, number int) error {
	return g.editPull(ctx, repo, number, &github.PullRequest{State: github.String("closed")}, "closing")
}

func (g *GitHub) editPull(ctx context.Context, repo events.Repo, number int, edit *github.PullRequest, what string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, _, err := c.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, edit); err != nil {
		return fail(err, "%s %s#%d", what, repo, number)
	}
	return nil
}

// ChangedFile is one entry of a pull request's file list.
type ChangedFile struct {
	Name     string
	Previous string // the old name of a renamed file
	Status   string // added, removed, modified, renamed, ...
}

// PullFiles lists every page of a pull request's changed files (GitHub
// lists at most 3,000).
func (g *GitHub) PullFiles(ctx context.Context, repo events.Repo, number int) ([]ChangedFile, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	var out []ChangedFile
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, fail(err, "listing the files of %s#%d", repo, number)
		}
		for _, f := range page {
			out = append(out, ChangedFile{Name: f.GetFilename(), Previous: f.GetPreviousFilename(), Status: f.GetStatus()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// AddLabels adds labels to an issue or pull request.
func (g *GitHub) AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, _, err := c.Issues.AddLabelsToIssue(ctx, repo.Owner, repo.Name, number, labels); err != nil {
		return fail(err, "labelling %s#%d", repo, number)
	}
	return nil
}

// AddAssignees assigns logins to an issue or pull request.
func (g *GitHub) AddAssignees(ctx context.Context, repo events.Repo, number int, logins []string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, _, err := c.Issues.AddAssignees(ctx, repo.Owner, repo.Name, number, logins); err != nil {
		return fail(err, "assigning %s#%d", repo, number)
	}
	return nil
}

// Approve submits an APPROVE review as the approver identity, of head when
// it is set (GitHub then refuses if the head moved).
func (g *GitHub) Approve(ctx context.Context, repo events.Repo, number int, head string) error {
	c, err := g.clients.ApproverForOwner(ctx, repo.Owner)
	if err != nil {
		return err
	}
	review := &github.PullRequestReviewRequest{Event: github.String("APPROVE")}
	if head != "" {
		review.CommitID = github.String(head)
	}
	if _, _, err := c.PullRequests.CreateReview(ctx, repo.Owner, repo.Name, number, review); err != nil {
		return fail(err, "approving %s#%d", repo, number)
	}
	return nil
}

// ErrHeadModified is in the chain of a merge GitHub refused with 409
// because the pull request's head is no longer the commit given.
var ErrHeadModified = fmt.Errorf("the pull request's head moved")

// Merge merges a pull request with method ("" for the repository's
// default) and commit title, if its head is still head (when set), and
// returns the merge commit. GitHub's 405 "Base branch was modified" wraps
// ErrBaseModified (see MergeRetry), a 409 for a moved head wraps
// ErrHeadModified; both are left unclassified for the caller. Other
// refusals are permanent.
func (g *GitHub) Merge(ctx context.Context, repo events.Repo, number int, head, title, method string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	res, _, err := c.PullRequests.Merge(ctx, repo.Owner, repo.Name, number, "", &github.PullRequestOptions{
		CommitTitle: title, SHA: head, MergeMethod: method,
	})
	switch {
	case StatusCode(err) == http.StatusMethodNotAllowed && strings.Contains(strings.ToLower(Message(err)), "try the merge again"):
		return "", fmt.Errorf("merging %s#%d: %w (%s)", repo, number, ErrBaseModified, Message(err))
	case head != "" && StatusCode(err) == http.StatusConflict:
		return "", fmt.Errorf("merging %s#%d at %s: %w (%s)", repo, number, head, ErrHeadModified, Message(err))
	case err != nil:
		return "", fail(err, "merging %s#%d", repo, number)
	case !res.GetMerged():
		return "", &PermanentError{Message: res.GetMessage(), Err: fmt.Errorf("merging %s#%d: %s", repo, number, res.GetMessage())}
	}
	return res.GetSHA(), nil
}

// RemoveLabel removes a label from an issue or pull request; a label it
// does not carry is no error.
func (g *GitHub) RemoveLabel(ctx context.Context, repo events.Repo, number int, label string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	if _, err := c.Issues.RemoveLabelForIssue(ctx, repo.Owner, repo.Name, number, label); err != nil && !IsNotFound(err) {
		return fail(err, "removing label %s from %s#%d", label, repo, number)
	}
	return nil
}
