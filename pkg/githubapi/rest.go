package githubapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Clients gives go-github and GraphQL clients per repository owner, for the
// main and the approver identity; *Factory is one.
type Clients interface {
	ForOwner(ctx context.Context, owner string) (*github.Client, error)
	GraphQLForOwner(ctx context.Context, owner string) (*githubv4.Client, error)
	ApproverForOwner(ctx context.Context, owner string) (*github.Client, error)
}

// GitHub is the one go-github adapter of every service: each service
// declares the few operations it needs as a small interface, which
// *GitHub satisfies. Every error is classified for the bus (Classify),
// except the sentinel errors (ErrBranchExists, ErrPullExists,
// ErrBaseModified), which callers handle.
type GitHub struct {
	clients Clients
	status  *StatusSetter
}

// NewGitHub returns the adapter over clients. status sets commit statuses
// (nil: the default target URL, no metrics).
func NewGitHub(clients Clients, status *StatusSetter) *GitHub {
	if status == nil {
		status = NewStatusSetter("", nil, slog.Default())
	}
	return &GitHub{clients: clients, status: status}
}

// Sentinel errors of the adapter.
var (
	// ErrBranchExists: CreateBranch found the branch already there.
	ErrBranchExists = errors.New("branch already exists")
	// ErrPullExists: CreatePull found a pull request open for the head.
	ErrPullExists = errors.New("a pull request already exists for this branch")
	// ErrBaseModified is in the chain of a merge refused with 405 "Base
	// branch was modified. Review and try the merge again.", the only merge
	// failure that is retried (MergeRetry).
	ErrBaseModified = errors.New("the base branch was modified")
)

func (g *GitHub) client(ctx context.Context, repo events.Repo) (*github.Client, error) {
	c, err := g.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, fmt.Errorf("getting a GitHub client for %s: %w", repo.Owner, err)
	}
	return c, nil
}

// fail classifies err after saying what was being done.
func fail(err error, format string, args ...any) error {
	return Classify(fmt.Errorf(format+": %w", append(args, err)...))
}

// StatusCode returns the HTTP status of a go-github error, or 0.
func StatusCode(err error) int {
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		return resp.Response.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is GitHub's 404.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// Message returns GitHub's message of err with the details it lists (the
// text a PR comment should show), or err's text when GitHub sent none.
func Message(err error) string {
	var pe *PermanentError
	if errors.As(err, &pe) && pe.Message != "" {
		return pe.Message
	}
	var resp *github.ErrorResponse
	if errors.As(err, &resp) {
		return responseMessage(resp)
	}
	return err.Error()
}

// unprocessable reports a 422 whose message contains text.
func unprocessable(err error, text string) bool {
	return StatusCode(err) == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(Message(err)), text)
}
