package promoter

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// GitHub is what the promoter does on GitHub. Errors are classified for the
// bus (githubapi.Classify), except the sentinel errors below.
type GitHub interface {
	// BranchHead resolves a branch; found is false when it does not exist.
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	// Tree reads the recursive tree of a commit and returns it with the
	// SHA of its root tree.
	Tree(ctx context.Context, repo events.Repo, commit string) (tree treesync.Tree, treeSHA string, err error)
	// CreateTree writes changes on top of baseTree (deletions explicit).
	CreateTree(ctx context.Context, repo events.Repo, baseTree string, changes []treesync.Change) (string, error)
	// CreateCommit writes a commit without custom author or committer.
	CreateCommit(ctx context.Context, repo events.Repo, message, tree string, parents []string) (string, error)
	// CommitTree returns the tree of a commit.
	CommitTree(ctx context.Context, repo events.Repo, sha string) (string, error)
	// CreateBranch creates a branch; it returns ErrBranchExists if it exists.
	CreateBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// ForceBranch moves a branch to sha, whatever it pointed at.
	ForceBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// OpenPulls lists every open PR into base.
	OpenPulls(ctx context.Context, repo events.Repo, base string) ([]Pull, error)
	// BranchPulls lists every PR (any state) whose head is branch.
	BranchPulls(ctx context.Context, repo events.Repo, branch string) ([]Pull, error)
	// CreatePull opens a PR; it returns ErrPullExists if one is open for head.
	CreatePull(ctx context.Context, repo events.Repo, title, head, base, body string) (Pull, error)
	// EditPull changes a PR's title and body.
	EditPull(ctx context.Context, repo events.Repo, number int, title, body string) error
	// ClosePull closes a PR without merging.
	ClosePull(ctx context.Context, repo events.Repo, number int) error
	AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error
	AddAssignees(ctx context.Context, repo events.Repo, number int, logins []string) error
	// Approve submits an APPROVE review as the approver identity.
	Approve(ctx context.Context, repo events.Repo, number int) error
	// Merge merges a PR with the repository's default method; it returns
	// the merge commit.
	Merge(ctx context.Context, repo events.Repo, number int, commitTitle string) (string, error)
	// Compare returns GitHub's comparison status of head against base:
	// "ahead", "behind", "identical" or "diverged".
	Compare(ctx context.Context, repo events.Repo, base, head string) (string, error)
	// Blob reads a blob.
	Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error)
	// Comment posts a bot comment.
	Comment(ctx context.Context, repo events.Repo, number int, body string) error
}

// Pull is a pull request as the promoter needs it.
type Pull struct {
	Number  int
	URL     string
	State   string // open or closed
	Merged  bool
	HeadRef string
	HeadSHA string
	Body    string
}

// Sentinel errors of GitHub.
var (
	ErrBranchExists = errors.New("branch already exists")
	ErrPullExists   = errors.New("a pull request already exists for this branch")
)

// Clients gives GitHub REST clients per owner, for the main and the approver
// identity; *githubapi.Factory is one.
type Clients interface {
	ForOwner(ctx context.Context, owner string) (*github.Client, error)
	ApproverForOwner(ctx context.Context, owner string) (*github.Client, error)
}

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		return resp.Response.StatusCode
	}
	return 0
}

// messageOf returns GitHub's message of a go-github error, with its details.
func messageOf(err error) string {
	var resp *github.ErrorResponse
	if !errors.As(err, &resp) {
		return err.Error()
	}
	parts := []string{resp.Message}
	for _, e := range resp.Errors {
		if e.Message != "" {
			parts = append(parts, e.Message)
		}
	}
	return strings.Join(parts, ": ")
}

// isTryMergeAgain reports GitHub's "Base branch was modified. Review and try
// the merge again." answer, the only merge failure that is retried.
func isTryMergeAgain(err error) bool {
	return statusOf(err) == http.StatusMethodNotAllowed && strings.Contains(messageOf(err), "try the merge again")
}
