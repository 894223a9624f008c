package emulator

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/webhook"
)

// The Go API below acts as people would on GitHub (every action sends the webhooks GitHub
// sends) and inspects the result. Repositories are named "owner/name".

// ErrNotFound is returned for missing repositories, refs, files, PRs and comments.
var ErrNotFound = errors.New("not found")

// Delivery is one webhook delivery attempt in the log.
type Delivery = webhook.Delivery

// Deliveries returns the webhook delivery log, oldest first.
func (e *Emulator) Deliveries() []Delivery { return e.hooks.Deliveries() }

// Redeliver sends the delivery with log id (or GUID) again with the same GUID and payload,
// and returns the new log entry's id.
func (e *Emulator) Redeliver(idOrGUID string) (int64, error) { return e.hooks.Redeliver(idOrGUID) }

// Content returns a pointer to s, for FileChanges values.
func Content(s string) *string { return &s }

// withRepo runs fn with repo fullName locked for writing.
func (e *Emulator) withRepo(fullName string, fn func(r *repo) error) error {
	r, err := e.repoByFullName(fullName)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return fn(r)
}

func (e *Emulator) readRepo(fullName string, fn func(r *repo) error) error {
	r, err := e.repoByFullName(fullName)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return fn(r)
}

func asError(aerr *apiError) error {
	if aerr == nil {
		return nil
	}
	if aerr.Status == 404 {
		return fmt.Errorf("%w: %s", ErrNotFound, aerr.Message)
	}
	if len(aerr.Errors) > 0 {
		return fmt.Errorf("%s: %v", aerr.Message, aerr.Errors)
	}
	return aerr
}

// Push commits changes (path -> content, nil deletes) to branch as login, creating the
// branch from the default branch when it does not exist, and returns the commit SHA.
func (e *Emulator) Push(repoName, branch, login, message string, changes map[string]*string) (string, error) {
	var sha string
	err := e.withRepo(repoName, func(r *repo) error {
		actor := e.users.get(login)
		if _, ok := r.git.Ref("refs/heads/" + branch); !ok {
			head, ok := r.git.Ref("refs/heads/" + r.defaultBranch)
			if !ok {
				return fmt.Errorf("%w: default branch", ErrNotFound)
			}
			if err := e.updateRef(r, actor, "refs/heads/"+branch, head); err != nil {
				return err
			}
		}
		paths := make([]string, 0, len(changes))
		for p := range changes {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		var edits []gitstore.Edit
		for _, p := range paths {
			if changes[p] == nil {
				edits = append(edits, gitstore.Edit{Path: p, Delete: true})
				continue
			}
			h, err := r.git.WriteBlob([]byte(*changes[p]))
			if err != nil {
				return err
			}
			edits = append(edits, gitstore.Edit{Path: p, Mode: filemode.Regular, Hash: h})
		}
		c, aerr := e.commitOnBranch(r, actor, branch, edits, message, nil, nil)
		if aerr != nil {
			return asError(aerr)
		}
		sha = c.Hash.String()
		return nil
	})
	return sha, err
}

// DeleteBranch deletes a branch as login (closing PRs whose head or base it is).
func (e *Emulator) DeleteBranch(repoName, branch, login string) error {
	return e.withRepo(repoName, func(r *repo) error {
		if _, ok := r.git.Ref("refs/heads/" + branch); !ok {
			return fmt.Errorf("%w: branch %s", ErrNotFound, branch)
		}
		return e.updateRef(r, e.users.get(login), "refs/heads/"+branch, hash{})
	})
}

// PullRequestSpec describes a PR opened through the Go API.
type PullRequestSpec struct {
	Author      string // login of the person opening it
	Title, Body string
	Head        string // branch name
	Base        string // default: the default branch
	Labels      []string
	Assignees   []string
	Draft       bool
}

// OpenPullRequest opens a PR as spec.Author (then labels and assigns it, as a person
// would) and returns its number.
func (e *Emulator) OpenPullRequest(repoName string, spec PullRequestSpec) (int, error) {
	var number int
	err := e.withRepo(repoName, func(r *repo) error {
		author := e.users.get(spec.Author)
		if spec.Base == "" {
			spec.Base = r.defaultBranch
		}
		is, aerr := e.createPull(r, author, newPull{Title: spec.Title, Body: spec.Body, Head: spec.Head, Base: spec.Base, Draft: spec.Draft})
		if aerr != nil {
			return asError(aerr)
		}
		number = is.number
		if len(spec.Labels) > 0 {
			if aerr := e.addLabels(r, author, is, spec.Labels); aerr != nil {
				return asError(aerr)
			}
		}
		if len(spec.Assignees) > 0 {
			e.addAssignees(r, author, is, spec.Assignees)
		}
		return nil
	})
	return number, err
}

// MergeOptions tune MergePullRequest; the zero value makes a merge commit.
type MergeOptions struct {
	Method      string // merge (default), squash or rebase
	CommitTitle string
	SHA         string // expected head SHA
}

// MergePullRequest merges PR number as login and returns the resulting commit SHA.
func (e *Emulator) MergePullRequest(repoName string, number int, login string, opts ...MergeOptions) (string, error) {
	var o MergeOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	var sha string
	err := e.withIssue(repoName, number, func(r *repo, is *issue) error {
		if is.pr == nil {
			return fmt.Errorf("%w: #%d is not a pull request", ErrNotFound, number)
		}
		h, aerr := e.mergePull(r, e.users.get(login), is, mergeRequest{Method: o.Method, CommitTitle: o.CommitTitle, SHA: o.SHA})
		if aerr != nil {
			return asError(aerr)
		}
		sha = h.String()
		return nil
	})
	return sha, err
}

func (e *Emulator) withIssue(repoName string, number int, fn func(r *repo, is *issue) error) error {
	return e.withRepo(repoName, func(r *repo) error {
		is, ok := r.issues[number]
		if !ok {
			return fmt.Errorf("%w: #%d in %s", ErrNotFound, number, repoName)
		}
		return fn(r, is)
	})
}

// ClosePullRequest closes PR number without merging, as login.
func (e *Emulator) ClosePullRequest(repoName string, number int, login string) error {
	closed := "closed"
	return e.withIssue(repoName, number, func(r *repo, is *issue) error {
		if is.pr == nil {
			return fmt.Errorf("%w: #%d is not a pull request", ErrNotFound, number)
		}
		return asError(e.updatePull(r, e.users.get(login), is, pullUpdate{State: &closed}))
	})
}

// AddLabels adds labels to issue or PR number as login (creating missing labels).
func (e *Emulator) AddLabels(repoName string, number int, login string, labels ...string) error {
	return e.withIssue(repoName, number, func(r *repo, is *issue) error {
		return asError(e.addLabels(r, e.users.get(login), is, labels))
	})
}

// Comment posts a comment on issue or PR number as login and returns its id.
func (e *Emulator) Comment(repoName string, number int, login, body string) (int64, error) {
	var id int64
	err := e.withIssue(repoName, number, func(r *repo, is *issue) error {
		c, aerr := e.createComment(r, e.users.get(login), is, body)
		if aerr != nil {
			return asError(aerr)
		}
		id = c.id
		return nil
	})
	return id, err
}

// EditComment replaces a comment's body as login (sending issue_comment edited).
func (e *Emulator) EditComment(repoName string, commentID int64, login, body string) error {
	return e.withRepo(repoName, func(r *repo) error {
		c, ok := r.comments[commentID]
		if !ok {
			return fmt.Errorf("%w: comment %d", ErrNotFound, commentID)
		}
		return asError(e.editComment(r, e.users.get(login), c, body))
	})
}

// Review submits a review (APPROVE, REQUEST_CHANGES or COMMENT) on PR number as login.
func (e *Emulator) Review(repoName string, number int, login, event, body string) error {
	return e.withIssue(repoName, number, func(r *repo, is *issue) error {
		if is.pr == nil {
			return fmt.Errorf("%w: #%d is not a pull request", ErrNotFound, number)
		}
		_, aerr := e.createReview(r, e.users.get(login), is, strings.ToUpper(event), body, "")
		return asError(aerr)
	})
}

// SetStatus records a commit status on sha as login.
func (e *Emulator) SetStatus(repoName, sha, login, state, context, description string) error {
	return e.withRepo(repoName, func(r *repo) error {
		_, aerr := e.createStatus(r, e.users.get(login), sha, state, "", description, context)
		return asError(aerr)
	})
}

// CreateIssue opens a plain issue (not a PR) as login and returns its number.
func (e *Emulator) CreateIssue(repoName, login, title, body string) (int, error) {
	var n int
	err := e.withRepo(repoName, func(r *repo) error {
		is, aerr := e.createIssue(r, e.users.get(login), title, body)
		if aerr != nil {
			return asError(aerr)
		}
		n = is.number
		return nil
	})
	return n, err
}
