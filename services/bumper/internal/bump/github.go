package bump

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// restGitHub implements GitHub with go-github for one repository.
type restGitHub struct {
	c           *github.Client
	owner, name string
}

// NewGitHub returns the GitHub operations of a bump on owner/name through c.
// Errors are classified by githubapi.Classify (permanent, retry-after, or
// transient).
func NewGitHub(c *github.Client, owner, name string) GitHub {
	return &restGitHub{c: c, owner: owner, name: name}
}

func classify(format string, err error, args ...any) error {
	return githubapi.Classify(fmt.Errorf(format+": %w", append(args, err)...))
}

func isNotFound(err error) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound
}

func (g *restGitHub) Repository(ctx context.Context) (Repository, error) {
	r, _, err := g.c.Repositories.Get(ctx, g.owner, g.name)
	if err != nil {
		return Repository{}, classify("getting %s/%s", err, g.owner, g.name)
	}
	if r.GetDefaultBranch() == "" {
		return Repository{}, fmt.Errorf("%s/%s has no default branch", g.owner, g.name)
	}
	repo := Repository{DefaultBranch: r.GetDefaultBranch()}
	switch {
	case r.AllowMergeCommit != nil && *r.AllowMergeCommit:
		repo.MergeMethod = "merge"
	case r.AllowSquashMerge != nil && *r.AllowSquashMerge:
		repo.MergeMethod = "squash"
	case r.AllowRebaseMerge != nil && *r.AllowRebaseMerge:
		repo.MergeMethod = "rebase"
	}
	return repo, nil
}

func (g *restGitHub) BranchHead(ctx context.Context, branch string) (string, bool, error) {
	ref, _, err := g.c.Git.GetRef(ctx, g.owner, g.name, "heads/"+branch)
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, classify("getting the ref heads/%s", err, branch)
	}
	return ref.GetObject().GetSHA(), true, nil
}

func (g *restGitHub) Commit(ctx context.Context, sha string) (Commit, error) {
	c, _, err := g.c.Git.GetCommit(ctx, g.owner, g.name, sha)
	if err != nil {
		return Commit{}, classify("getting commit %s", err, sha)
	}
	out := Commit{Tree: c.GetTree().GetSHA()}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	return out, nil
}

func (g *restGitHub) ReadFile(ctx context.Context, path, commit string) ([]byte, bool, error) {
	file, dir, _, err := g.c.Repositories.GetContents(ctx, g.owner, g.name, path, &github.RepositoryContentGetOptions{Ref: commit})
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify("getting the contents of %s", err, path)
	}
	if file == nil || dir != nil {
		return nil, false, Invalid(fmt.Errorf("%s is a directory", path))
	}
	if t := file.GetType(); t != "" && t != "file" {
		return nil, false, Invalid(fmt.Errorf("%s is a %s, not a file", path, t))
	}
	if file.GetEncoding() != "none" {
		content, err := file.GetContent()
		if err != nil {
			return nil, false, fmt.Errorf("decoding the contents of %s: %w", path, err)
		}
		return []byte(content), true, nil
	}
	// Files over the contents API's size limit come without content.
	blob, _, err := g.c.Git.GetBlob(ctx, g.owner, g.name, file.GetSHA())
	if err != nil {
		return nil, false, classify("getting the blob of %s", err, path)
	}
	content, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(blob.GetContent(), "\n", ""))
	if err != nil {
		return nil, false, fmt.Errorf("decoding the blob of %s: %w", path, err)
	}
	return content, true, nil
}

func (g *restGitHub) WriteFile(ctx context.Context, baseTree, path string, content []byte) (string, error) {
	blob, _, err := g.c.Git.CreateBlob(ctx, g.owner, g.name, &github.Blob{
		Content:  github.String(base64.StdEncoding.EncodeToString(content)),
		Encoding: github.String("base64"),
	})
	if err != nil {
		return "", classify("creating the blob of %s", err, path)
	}
	tree, _, err := g.c.Git.CreateTree(ctx, g.owner, g.name, baseTree, []*github.TreeEntry{{
		Path: github.String(path), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA,
	}})
	if err != nil {
		return "", classify("creating the tree with %s", err, path)
	}
	return tree.GetSHA(), nil
}

func (g *restGitHub) CreateCommit(ctx context.Context, message, tree, parent string) (string, error) {
	c, _, err := g.c.Git.CreateCommit(ctx, g.owner, g.name, &github.Commit{
		Message: github.String(message),
		Tree:    &github.Tree{SHA: github.String(tree)},
		Parents: []*github.Commit{{SHA: github.String(parent)}},
	})
	if err != nil {
		return "", classify("creating the commit", err)
	}
	return c.GetSHA(), nil
}

func (g *restGitHub) CreateBranch(ctx context.Context, branch, sha string) error {
	_, _, err := g.c.Git.CreateRef(ctx, g.owner, g.name, &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)},
	})
	if err != nil {
		return classify("creating the ref heads/%s", err, branch)
	}
	return nil
}

func (g *restGitHub) ForceBranch(ctx context.Context, branch, sha string) error {
	_, _, err := g.c.Git.UpdateRef(ctx, g.owner, g.name, &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)},
	}, true)
	if err != nil {
		return classify("updating the ref heads/%s", err, branch)
	}
	return nil
}

func (g *restGitHub) OpenPR(ctx context.Context, branch string) (*PR, error) {
	prs, _, err := g.c.PullRequests.List(ctx, g.owner, g.name, &github.PullRequestListOptions{
		State: "open", Head: g.owner + ":" + branch,
	})
	if err != nil {
		return nil, classify("listing open PRs from %s", err, branch)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() == branch {
			return toPR(pr), nil
		}
	}
	return nil, nil
}

func toPR(pr *github.PullRequest) *PR {
	out := &PR{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), HeadSHA: pr.GetHead().GetSHA()}
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	for _, a := range pr.Assignees {
		out.Assignees = append(out.Assignees, a.GetLogin())
	}
	return out
}

func (g *restGitHub) CreatePR(ctx context.Context, title, body, head, base string) (*PR, error) {
	pr, _, err := g.c.PullRequests.Create(ctx, g.owner, g.name, &github.NewPullRequest{
		Title: github.String(title), Body: github.String(body), Head: github.String(head), Base: github.String(base),
	})
	if err != nil {
		return nil, classify("creating the PR from %s", err, head)
	}
	return toPR(pr), nil
}

func (g *restGitHub) AddLabels(ctx context.Context, number int, labels ...string) error {
	if _, _, err := g.c.Issues.AddLabelsToIssue(ctx, g.owner, g.name, number, labels); err != nil {
		return classify("adding labels to #%d", err, number)
	}
	return nil
}

func (g *restGitHub) AddAssignees(ctx context.Context, number int, logins ...string) error {
	if _, _, err := g.c.Issues.AddAssignees(ctx, g.owner, g.name, number, logins); err != nil {
		return classify("assigning #%d", err, number)
	}
	return nil
}

func (g *restGitHub) Merge(ctx context.Context, number int, headSHA, title, method string) (string, error) {
	res, _, err := g.c.PullRequests.Merge(ctx, g.owner, g.name, number, "", &github.PullRequestOptions{
		CommitTitle: title, SHA: headSHA, MergeMethod: method,
	})
	var e *github.ErrorResponse
	if errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusMethodNotAllowed &&
		strings.Contains(strings.ToLower(e.Message), "try the merge again") {
		return "", fmt.Errorf("merging #%d: %w (%s)", number, ErrBaseModified, e.Message)
	}
	if err != nil {
		return "", classify("merging #%d", err, number)
	}
	if !res.GetMerged() {
		return "", fmt.Errorf("merging #%d: %s", number, res.GetMessage())
	}
	return res.GetSHA(), nil
}
