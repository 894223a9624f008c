package planner

import (
	"context"
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// GitHub is what the planner does on GitHub (*githubapi.GitHub is one).
// Every error is classified for the bus.
type GitHub interface {
	// File reads path at ref; found is false when there is no such file.
	File(ctx context.Context, repo events.Repo, ref, path string) (data []byte, found bool, err error)
	// PullFiles lists every page of a PR's changed files.
	PullFiles(ctx context.Context, repo events.Repo, number int) ([]githubapi.ChangedFile, error)
	// BranchHead resolves a branch to its head commit.
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	// Tree reads the recursive tree of a commit (only dirs when GitHub
	// truncates the listing).
	Tree(ctx context.Context, repo events.Repo, commit string, dirs []string) (githubapi.Tree, error)
	// SetStatus sets the telefonistka commit status.
	SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error
	// Comment posts a bot comment on an issue or PR; Comments lists them.
	Comment(ctx context.Context, repo events.Repo, number int, body string) (githubapi.PostedComment, error)
	Comments(ctx context.Context, repo events.Repo, number int) ([]githubapi.IssueComment, error)
	// PullFacts reads a PR as GitHub has it now, with the default branch head.
	PullFacts(ctx context.Context, repo events.Repo, number int) (githubapi.PullFacts, error)
	// Blob reads a blob (configuration files found in a tree).
	Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error)
	// Compare returns GitHub's comparison status of head against base.
	Compare(ctx context.Context, repo events.Repo, base, head string) (string, error)
}

// changedNames returns every name of a PR's file list, and for renames the
// previous name too.
func changedNames(files []githubapi.ChangedFile) []string {
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, f.Name)
		if f.Previous != "" {
			names = append(names, f.Previous)
		}
	}
	return names
}

// branchHead resolves a branch that must exist.
func branchHead(ctx context.Context, gh GitHub, repo events.Repo, branch string) (string, error) {
	sha, found, err := gh.BranchHead(ctx, repo, branch)
	if err == nil && !found {
		err = fmt.Errorf("branch %s of %s does not exist", branch, repo)
	}
	return sha, err
}
