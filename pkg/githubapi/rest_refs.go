package githubapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Repository is what services read about a repository.
type Repository struct {
	DefaultBranch string
	// MergeMethod is the first merge method the repository allows
	// ("merge", "squash", "rebase"), "" when GitHub did not say.
	MergeMethod string
}

// Repository reads a repository's default branch and merge method.
func (g *GitHub) Repository(ctx context.Context, repo events.Repo) (Repository, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Repository{}, err
	}
	r, _, err := c.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		return Repository{}, fail(err, "reading repository %s", repo)
	}
	if r.GetDefaultBranch() == "" {
		return Repository{}, fmt.Errorf("reading repository %s: GitHub names no default branch", repo)
	}
	out := Repository{DefaultBranch: r.GetDefaultBranch()}
	switch {
	case r.GetAllowMergeCommit():
		out.MergeMethod = "merge"
	case r.GetAllowSquashMerge():
		out.MergeMethod = "squash"
	case r.GetAllowRebaseMerge():
		out.MergeMethod = "rebase"
	}
	return out, nil
}

// BranchHead resolves a branch to its head commit; found is false when the
// branch does not exist.
func (g *GitHub) BranchHead(ctx context.Context, repo events.Repo, branch string) (string, bool, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", false, err
	}
	ref, _, err := c.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fail(err, "resolving branch %s of %s", branch, repo)
	}
	return ref.GetObject().GetSHA(), true, nil
}

func branchRef(branch, sha string) *github.Reference {
	return &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
}

// CreateBranch creates branch at sha; it returns ErrBranchExists when the
// branch is already there.
func (g *GitHub) CreateBranch(ctx context.Context, repo events.Repo, branch, sha string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, _, err = c.Git.CreateRef(ctx, repo.Owner, repo.Name, branchRef(branch, sha))
	if unprocessable(err, "already exists") {
		return ErrBranchExists
	}
	if err != nil {
		return fail(err, "creating branch %s of %s", branch, repo)
	}
	return nil
}

// ForceBranch moves branch to sha whatever it pointed at, creating it when
// it does not exist.
func (g *GitHub) ForceBranch(ctx context.Context, repo events.Repo, branch, sha string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, _, err = c.Git.UpdateRef(ctx, repo.Owner, repo.Name, branchRef(branch, sha), true)
	if unprocessable(err, "does not exist") {
		if err := g.CreateBranch(ctx, repo, branch, sha); !errors.Is(err, ErrBranchExists) {
			return err
		}
		_, _, err = c.Git.UpdateRef(ctx, repo.Owner, repo.Name, branchRef(branch, sha), true)
	}
	if err != nil {
		return fail(err, "moving branch %s of %s to %s", branch, repo, sha)
	}
	return nil
}

// Compare returns GitHub's comparison status of head against base:
// "ahead", "behind", "identical" or "diverged".
func (g *GitHub) Compare(ctx context.Context, repo events.Repo, base, head string) (string, error) {
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
