// Package bump opens version-bump PRs (SPEC §9): it reads the target file on
// the repository's default branch, computes the new content, commits it on
// the branch artifact_version_bump/<triggering repo>/<sha> through the Git
// Data API, opens the PR, labels and assigns it, and auto-merges it if asked.
// Every step is safe to repeat: an open PR on the branch is adopted and a
// commit identical to the branch head is not made again.
package bump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/telefonistka/telefonistka/services/bumper/internal/edit"
)

// GitHub is what a bump needs from GitHub, for the target repository.
type GitHub interface {
	Repository(ctx context.Context) (Repository, error)
	// BranchHead returns the commit a branch points at; found is false when
	// the branch does not exist.
	BranchHead(ctx context.Context, branch string) (sha string, found bool, err error)
	// Commit returns the tree and parents of a commit.
	Commit(ctx context.Context, sha string) (Commit, error)
	// ReadFile returns a file's content at a commit; found is false when
	// there is no such file.
	ReadFile(ctx context.Context, path, commit string) (content []byte, found bool, err error)
	// WriteFile creates a tree that is base with path set to content.
	WriteFile(ctx context.Context, baseTree, path string, content []byte) (tree string, err error)
	CreateCommit(ctx context.Context, message, tree, parent string) (sha string, err error)
	CreateBranch(ctx context.Context, branch, sha string) error
	// ForceBranch points an existing branch at sha.
	ForceBranch(ctx context.Context, branch, sha string) error
	// OpenPR returns the open PR whose head is branch, if any.
	OpenPR(ctx context.Context, branch string) (*PR, error)
	CreatePR(ctx context.Context, title, body, head, base string) (*PR, error)
	AddLabels(ctx context.Context, number int, labels ...string) error
	AddAssignees(ctx context.Context, number int, logins ...string) error
	// Merge merges the PR if its head is still headSHA, with the given
	// commit title and method ("" for GitHub's default), returning the merge
	// commit.
	Merge(ctx context.Context, number int, headSHA, title, method string) (string, error)
}

// Repository is what a bump reads about the target repository.
type Repository struct {
	DefaultBranch string
	// MergeMethod is the repository's preferred merge method ("merge",
	// "squash" or "rebase"), "" when unknown.
	MergeMethod string
}

// Commit is a commit's tree and parents.
type Commit struct {
	Tree    string
	Parents []string
}

// PR is a pull request.
type PR struct {
	Number  int
	URL     string
	HeadSHA string
	// Labels and Assignees are what the PR carries, when known.
	Labels    []string
	Assignees []string
}

// Request is one bump.
type Request struct {
	// File is the path of the target file from the repository root.
	File   string
	Change Change
	// TriggeringRepo ("owner/name") and SHA name the branch and the PR.
	TriggeringRepo, SHA string
	// Actor is assigned to the PR, if set.
	Actor     string
	AutoMerge bool
	// CompleteAdopted makes a run that finds the PR already open run the
	// steps that may be missing on it (label, assignee, auto-merge), as a
	// redelivered request must; the commands only report the PR.
	CompleteAdopted bool
}

// Result says what a bump did.
type Result struct {
	// Unchanged is true when the new content equals the file on the
	// default branch; nothing was written.
	Unchanged bool
	// BaseBranch and BaseCommit are the default branch and the commit read.
	BaseBranch, BaseCommit string
	// Branch and Commit are the bump branch and its head.
	Branch, Commit string
	PR             *PR
	// Adopted is true when the PR was already open.
	Adopted     bool
	Merged      bool
	MergeCommit string
}

// Runner runs bumps.
type Runner struct {
	Log *slog.Logger
	// Merge is the auto-merge retry policy; the zero value is SPEC §5.11's.
	Merge MergePolicy
	// Diff, if set, receives the Before/After diff as plain text instead of
	// the log (the commands write it to stderr).
	Diff io.Writer
}

var errMissing = errors.New("the file does not exist on the default branch")

// Run performs the bump. Errors are *StepError values naming the failed step.
func (r *Runner) Run(ctx context.Context, gh GitHub, req Request) (*Result, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	repo, err := gh.Repository(ctx)
	if err != nil {
		return nil, step("reading the repository", err)
	}
	res := &Result{BaseBranch: repo.DefaultBranch, Branch: BranchName(req.TriggeringRepo, req.SHA)}
	base, found, err := gh.BranchHead(ctx, repo.DefaultBranch)
	if err == nil && !found {
		err = Invalid(fmt.Errorf("the default branch %s does not exist", repo.DefaultBranch))
	}
	if err != nil {
		return nil, step("reading the default branch "+repo.DefaultBranch, err)
	}
	res.BaseCommit = base
	old, exists, err := gh.ReadFile(ctx, req.File, base)
	if err != nil {
		return nil, step(fmt.Sprintf("reading %s at %s", req.File, repo.DefaultBranch), err)
	}
	updated, err := req.Change.Apply(old, exists)
	if errors.Is(err, errMissing) {
		err = fmt.Errorf("%s does not exist on %s", req.File, repo.DefaultBranch)
	}
	if err != nil {
		return nil, step("computing the new content of "+req.File, Invalid(err))
	}
	if exists && bytes.Equal(old, updated) {
		log.Info("no change", "file", req.File, "base", base)
		res.Unchanged = true
		return res, nil
	}
	if diff := edit.Diff(req.File, old, updated); r.Diff != nil {
		log.Info("new content computed", "file", req.File, "change", req.Change.Describe())
		fmt.Fprintf(r.Diff, "Before/After %s:\n%s", req.File, diff)
	} else {
		log.Info("Before/After", "file", req.File, "change", req.Change.Describe(), "diff", diff)
	}
	if err := edit.CheckYAML(req.File, old, updated); err != nil {
		return nil, step("checking the new content", Invalid(err))
	}

	head, branchFound, err := gh.BranchHead(ctx, res.Branch)
	if err != nil {
		return nil, step("reading the branch "+res.Branch, err)
	}
	if branchFound {
		pr, err := gh.OpenPR(ctx, res.Branch)
		if err != nil {
			return nil, step("looking for an open PR on "+res.Branch, err)
		}
		if pr != nil {
			log.Info("the bump PR is already open", "pr", pr.Number, "url", pr.URL)
			res.PR, res.Adopted, res.Commit = pr, true, head
			if pr.HeadSHA != "" {
				res.Commit = pr.HeadSHA
			}
			if !req.CompleteAdopted {
				return res, nil
			}
			return res, r.finish(ctx, gh, req, repo, res)
		}
	}
	if err := r.commit(ctx, gh, req, res, updated, head, branchFound); err != nil {
		return nil, err
	}
	pr, err := gh.CreatePR(ctx, PRTitle(req.TriggeringRepo, req.File), PRBody(req.TriggeringRepo, req.SHA), res.Branch, repo.DefaultBranch)
	if err != nil {
		// Someone (a concurrent run) opened it in between: adopt it.
		if existing, lookErr := gh.OpenPR(ctx, res.Branch); lookErr == nil && existing != nil {
			pr, err = existing, nil
			res.Adopted = true
		}
	}
	if err != nil {
		return nil, step("opening the PR", err)
	}
	log.Info("opened the bump PR", "pr", pr.Number, "url", pr.URL)
	res.PR = pr
	return res, r.finish(ctx, gh, req, repo, res)
}

// commit writes the new content on the bump branch, on top of the default
// branch head, unless the branch already holds exactly that commit.
func (r *Runner) commit(ctx context.Context, gh GitHub, req Request, res *Result, content []byte, head string, branchFound bool) error {
	baseCommit, err := gh.Commit(ctx, res.BaseCommit)
	if err != nil {
		return step("reading the default branch commit "+res.BaseCommit, err)
	}
	tree, err := gh.WriteFile(ctx, baseCommit.Tree, req.File, content)
	if err != nil {
		return step("writing the tree", err)
	}
	if branchFound {
		existing, err := gh.Commit(ctx, head)
		if err != nil {
			return step("reading the branch head "+head, err)
		}
		if existing.Tree == tree && len(existing.Parents) == 1 && existing.Parents[0] == res.BaseCommit {
			res.Commit = head
			return nil
		}
	}
	sha, err := gh.CreateCommit(ctx, CommitMessage(req.File), tree, res.BaseCommit)
	if err != nil {
		return step("committing", err)
	}
	res.Commit = sha
	if branchFound {
		return step("updating the branch "+res.Branch, gh.ForceBranch(ctx, res.Branch, sha))
	}
	if err := gh.CreateBranch(ctx, res.Branch, sha); err != nil {
		// Created concurrently: a branch that exists is updated, never an error.
		if _, found, lookErr := gh.BranchHead(ctx, res.Branch); lookErr == nil && found {
			return step("updating the branch "+res.Branch, gh.ForceBranch(ctx, res.Branch, sha))
		}
		return step("creating the branch "+res.Branch, err)
	}
	return nil
}

// finish labels, assigns and auto-merges the PR, skipping what it carries.
func (r *Runner) finish(ctx context.Context, gh GitHub, req Request, repo Repository, res *Result) error {
	pr := res.PR
	if !contains(pr.Labels, Label) {
		if err := gh.AddLabels(ctx, pr.Number, Label); err != nil {
			return step("labelling the PR", err)
		}
	}
	if req.Actor != "" && !contains(pr.Assignees, req.Actor) {
		if err := gh.AddAssignees(ctx, pr.Number, req.Actor); err != nil {
			return step("assigning the PR to "+req.Actor, err)
		}
	}
	if !req.AutoMerge {
		return nil
	}
	sha, err := r.Merge.merge(ctx, func(ctx context.Context) (string, error) {
		return gh.Merge(ctx, pr.Number, res.Commit, MergeTitle, repo.MergeMethod)
	})
	if err != nil {
		return step("auto-merging the PR", err)
	}
	res.Merged, res.MergeCommit = true, sha
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
