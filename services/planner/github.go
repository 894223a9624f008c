package planner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// GitHub is what the planner does on GitHub. Every error is classified for
// the bus (githubapi.Classify).
type GitHub interface {
	// File reads path at ref; found is false when there is no such file.
	File(ctx context.Context, repo events.Repo, ref, path string) (data []byte, found bool, err error)
	// PullFiles lists every page of a PR's changed files: every name, and
	// for renames the previous name too. listed is how many file entries
	// GitHub returned.
	PullFiles(ctx context.Context, repo events.Repo, number int) (names []string, listed int, err error)
	// BranchHead resolves a branch to its head commit.
	BranchHead(ctx context.Context, repo events.Repo, branch string) (string, error)
	// Tree reads the recursive tree of a commit.
	Tree(ctx context.Context, repo events.Repo, commit string) (treesync.Tree, error)
	// SetStatus sets the telefonistka commit status.
	SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error
	// Comment posts a bot comment on an issue or PR.
	Comment(ctx context.Context, repo events.Repo, number int, body string) error
}

// Clients gives GitHub REST clients per repository owner; *githubapi.Factory
// is one.
type Clients interface {
	ForOwner(ctx context.Context, owner string) (*github.Client, error)
}

// NewGitHub returns the go-github adapter of GitHub.
func NewGitHub(clients Clients, status *githubapi.StatusSetter) GitHub {
	if status == nil {
		status = githubapi.NewStatusSetter("", nil, slog.Default())
	}
	return &restGitHub{clients: clients, status: status}
}

type restGitHub struct {
	clients Clients
	status  *githubapi.StatusSetter
}

func (g *restGitHub) client(ctx context.Context, repo events.Repo) (*github.Client, error) {
	c, err := g.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, fmt.Errorf("getting a GitHub client for %s: %w", repo.Owner, err)
	}
	return c, nil
}

func isNotFound(err error) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound
}

func (g *restGitHub) File(ctx context.Context, repo events.Repo, ref, path string) ([]byte, bool, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, false, err
	}
	file, dir, _, err := c.Repositories.GetContents(ctx, repo.Owner, repo.Name, path,
		&github.RepositoryContentGetOptions{Ref: ref})
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, githubapi.Classify(fmt.Errorf("reading %s of %s at %s: %w", path, repo, ref, err))
	}
	if file == nil || dir != nil {
		return nil, false, nil // a directory of that name: no configuration file
	}
	content, err := file.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decoding %s of %s at %s: %w", path, repo, ref, err)
	}
	return []byte(content), true, nil
}

func (g *restGitHub) PullFiles(ctx context.Context, repo events.Repo, number int) ([]string, int, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, 0, err
	}
	var names []string
	listed := 0
	opts := &github.ListOptions{PerPage: 100}
	for {
		files, resp, err := c.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, 0, githubapi.Classify(fmt.Errorf("listing the files of %s#%d: %w", repo, number, err))
		}
		for _, f := range files {
			listed++
			names = append(names, f.GetFilename())
			if prev := f.GetPreviousFilename(); prev != "" {
				names = append(names, prev)
			}
		}
		if resp.NextPage == 0 {
			return names, listed, nil
		}
		opts.Page = resp.NextPage
	}
}

func (g *restGitHub) BranchHead(ctx context.Context, repo events.Repo, branch string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	ref, _, err := c.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if err != nil {
		return "", githubapi.Classify(fmt.Errorf("resolving branch %s of %s: %w", branch, repo, err))
	}
	return ref.GetObject().GetSHA(), nil
}

func (g *restGitHub) Tree(ctx context.Context, repo events.Repo, commit string) (treesync.Tree, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	t, _, err := c.Git.GetTree(ctx, repo.Owner, repo.Name, commit, true)
	if err != nil {
		return nil, githubapi.Classify(fmt.Errorf("reading the tree of %s at %s: %w", repo, commit, err))
	}
	if t.GetTruncated() {
		return nil, fmt.Errorf("the tree of %s at %s has more entries than GitHub lists in one read", repo, commit)
	}
	out := make(treesync.Tree, len(t.Entries))
	for _, e := range t.Entries {
		out[e.GetPath()] = treesync.Entry{Mode: e.GetMode(), Type: e.GetType(), SHA: e.GetSHA()}
	}
	return out, nil
}

func (g *restGitHub) SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	return g.status.Set(ctx, c.Repositories, githubapi.StatusTarget{Owner: repo.Owner, Repo: repo.Name, PrNumber: pr, SHA: sha}, state, reason)
}

func (g *restGitHub) Comment(ctx context.Context, repo events.Repo, number int, body string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	_, err = githubapi.PostComment(ctx, c.Issues, repo.Owner, repo.Name, number, body)
	return err
}
