package promoter

import (
	"context"
	"errors"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// GitHub is what the promoter does on GitHub (*githubapi.GitHub is one).
// Errors are classified for the bus, except the adapter's sentinel errors
// (githubapi.ErrBranchExists, ErrPullExists, ErrBaseModified,
// ErrHeadModified).
type GitHub interface {
	// BranchHead resolves a branch; found is false when it does not exist.
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	// Tree reads the recursive tree of a commit with the SHA of its root tree.
	Tree(ctx context.Context, repo events.Repo, commit string, dirs []string) (githubapi.Tree, error)
	// CreateTree writes changes on top of baseTree (deletions explicit).
	CreateTree(ctx context.Context, repo events.Repo, baseTree string, changes []treesync.Change) (string, error)
	// CreateCommit writes a commit without custom author or committer.
	CreateCommit(ctx context.Context, repo events.Repo, message, tree string, parents []string) (string, error)
	// Commit reads a commit (its tree).
	Commit(ctx context.Context, repo events.Repo, sha string) (githubapi.Commit, error)
	// CreateBranch creates a branch; githubapi.ErrBranchExists if it exists.
	CreateBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// ForceBranch moves a branch to sha, whatever it pointed at.
	ForceBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// OpenPulls lists every open PR into base.
	OpenPulls(ctx context.Context, repo events.Repo, base string) ([]Pull, error)
	// BranchPulls lists the PRs in state whose head is branch.
	BranchPulls(ctx context.Context, repo events.Repo, branch, state string) ([]Pull, error)
	// CreatePull opens a PR; githubapi.ErrPullExists if one is open for head.
	CreatePull(ctx context.Context, repo events.Repo, title, head, base, body string) (Pull, error)
	// EditPull changes a PR's title and body.
	EditPull(ctx context.Context, repo events.Repo, number int, title, body string) error
	// ClosePull closes a PR without merging.
	ClosePull(ctx context.Context, repo events.Repo, number int) error
	AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error
	AddAssignees(ctx context.Context, repo events.Repo, number int, logins []string) error
	// UpdateIssue sets a PR's labels and assignees in one call.
	UpdateIssue(ctx context.Context, repo events.Repo, number int, u githubapi.IssueUpdate) error
	// Approve submits an APPROVE review of commit head as the approver
	// identity.
	Approve(ctx context.Context, repo events.Repo, number int, head string) error
	// Merge merges a PR if its head is still head; it returns the merge
	// commit, or an error wrapping githubapi.ErrBaseModified (try again) or
	// githubapi.ErrHeadModified.
	Merge(ctx context.Context, repo events.Repo, number int, head, title, method string) (string, error)
	// Compare returns GitHub's comparison status of head against base:
	// "ahead", "behind", "identical" or "diverged".
	Compare(ctx context.Context, repo events.Repo, base, head string) (string, error)
	// Blob reads a blob.
	Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error)
	// Comment posts a bot comment.
	Comment(ctx context.Context, repo events.Repo, number int, body string) (githubapi.PostedComment, error)
}

// Pull is a pull request as the adapter reads it.
type Pull = githubapi.Pull

// ErrHeadModified: the PR's head is not the commit the promoter wrote
// (GitHub's 409 "Head branch was modified" to a merge of that commit).
var ErrHeadModified = errors.New("someone else pushed to its branch, so it is not merged automatically")

// comment posts a bot comment on repo's issue or PR number.
func (s *Service) comment(ctx context.Context, repo events.Repo, number int, body string) error {
	_, err := s.gh.Comment(ctx, repo, number, body)
	return err
}
