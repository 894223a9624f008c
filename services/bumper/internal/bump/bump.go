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

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
	"github.com/telefonistka/telefonistka/services/bumper/internal/edit"
)

// GitHub is what a bump needs from GitHub (*githubapi.GitHub is one).
type GitHub interface {
	Repository(ctx context.Context, repo events.Repo) (githubapi.Repository, error)
	// BranchHead returns the commit a branch points at; found is false when
	// the branch does not exist.
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	Commit(ctx context.Context, repo events.Repo, sha string) (githubapi.Commit, error)
	// File returns a file's content at a commit; found is false when
	// there is no such file.
	File(ctx context.Context, repo events.Repo, ref, path string) (content []byte, found bool, err error)
	CreateBlob(ctx context.Context, repo events.Repo, content []byte) (string, error)
	CreateTree(ctx context.Context, repo events.Repo, baseTree string, changes []treesync.Change) (string, error)
	CreateCommit(ctx context.Context, repo events.Repo, message, tree string, parents []string) (string, error)
	CreateBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// ForceBranch points a branch at sha.
	ForceBranch(ctx context.Context, repo events.Repo, branch, sha string) error
	// BranchPulls returns the PRs in state whose head is branch.
	BranchPulls(ctx context.Context, repo events.Repo, branch, state string) ([]githubapi.Pull, error)
	CreatePull(ctx context.Context, repo events.Repo, title, head, base, body string) (githubapi.Pull, error)
	AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error
	AddAssignees(ctx context.Context, repo events.Repo, number int, logins []string) error
	// Merge merges the PR if its head is still head, with the given commit
	// title and method ("" for GitHub's default), returning the merge commit.
	Merge(ctx context.Context, repo events.Repo, number int, head, title, method string) (string, error)
}

// Request is one bump.
type Request struct {
	// Repo is the target repository.
	Repo events.Repo
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
	PR             *githubapi.Pull
	// Adopted is true when the PR was already open.
	Adopted     bool
	Merged      bool
	MergeCommit string
}

// Runner runs bumps.
type Runner struct {
	Log *slog.Logger
	// Merge is the auto-merge retry policy; the zero value is SPEC §5.11's.
	Merge githubapi.MergeRetry
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
	repo, err := gh.Repository(ctx, req.Repo)
	if err != nil {
		return nil, step("reading the repository", err)
	}
	res := &Result{BaseBranch: repo.DefaultBranch, Branch: BranchName(req.TriggeringRepo, req.SHA)}
	base, found, err := gh.BranchHead(ctx, req.Repo, repo.DefaultBranch)
	if err == nil && !found {
		err = Invalid(fmt.Errorf("the default branch %s does not exist", repo.DefaultBranch))
	}
	if err != nil {
		return nil, step("reading the default branch "+repo.DefaultBranch, err)
	}
	res.BaseCommit = base
	old, exists, err := gh.File(ctx, req.Repo, base, req.File)
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

	head, branchFound, err := gh.BranchHead(ctx, req.Repo, res.Branch)
	if err != nil {
		return nil, step("reading the branch "+res.Branch, err)
	}
	if branchFound {
		pr, err := openPull(ctx, gh, req.Repo, res.Branch)
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
	created, err := gh.CreatePull(ctx, req.Repo, PRTitle(req.TriggeringRepo, req.File), res.Branch, repo.DefaultBranch, PRBody(req.TriggeringRepo, req.SHA))
	pr := &created
	if err != nil {
		// Someone (a concurrent run) opened it in between: adopt it.
		if existing, lookErr := openPull(ctx, gh, req.Repo, res.Branch); lookErr == nil && existing != nil {
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
	baseCommit, err := gh.Commit(ctx, req.Repo, res.BaseCommit)
	if err != nil {
		return step("reading the default branch commit "+res.BaseCommit, err)
	}
	tree, err := writeFile(ctx, gh, req.Repo, baseCommit.Tree, req.File, content)
	if err != nil {
		return step("writing the tree", err)
	}
	if branchFound {
		existing, err := gh.Commit(ctx, req.Repo, head)
		if err != nil {
			return step("reading the branch head "+head, err)
		}
		if existing.Tree == tree && len(existing.Parents) == 1 && existing.Parents[0] == res.BaseCommit {
			res.Commit = head
			return nil
		}
	}
	sha, err := gh.CreateCommit(ctx, req.Repo, CommitMessage(req.File), tree, []string{res.BaseCommit})
	if err != nil {
		return step("committing", err)
	}
	res.Commit = sha
	if branchFound {
		return step("updating the branch "+res.Branch, gh.ForceBranch(ctx, req.Repo, res.Branch, sha))
	}
	err = gh.CreateBranch(ctx, req.Repo, res.Branch, sha)
	if errors.Is(err, githubapi.ErrBranchExists) {
		// Created concurrently: a branch that exists is updated, never an error.
		return step("updating the branch "+res.Branch, gh.ForceBranch(ctx, req.Repo, res.Branch, sha))
	}
	return step("creating the branch "+res.Branch, err)
}

// writeFile creates a tree that is baseTree with path set to content.
func writeFile(ctx context.Context, gh GitHub, repo events.Repo, baseTree, path string, content []byte) (string, error) {
	blob, err := gh.CreateBlob(ctx, repo, content)
	if err != nil {
		return "", err
	}
	return gh.CreateTree(ctx, repo, baseTree, []treesync.Change{{Path: path, Mode: "100644", Type: treesync.TypeBlob, SHA: blob}})
}

// openPull returns the open PR whose head is branch, if any.
func openPull(ctx context.Context, gh GitHub, repo events.Repo, branch string) (*githubapi.Pull, error) {
	pulls, err := gh.BranchPulls(ctx, repo, branch, "open")
	if err != nil || len(pulls) == 0 {
		return nil, err
	}
	return &pulls[0], nil
}

// finish labels, assigns and auto-merges the PR, skipping what it carries.
func (r *Runner) finish(ctx context.Context, gh GitHub, req Request, repo githubapi.Repository, res *Result) error {
	pr := res.PR
	if !contains(pr.Labels, Label) {
		if err := gh.AddLabels(ctx, req.Repo, pr.Number, []string{Label}); err != nil {
			return step("labelling the PR", err)
		}
	}
	if req.Actor != "" && !contains(pr.Assignees, req.Actor) {
		if err := gh.AddAssignees(ctx, req.Repo, pr.Number, []string{req.Actor}); err != nil {
			return step("assigning the PR to "+req.Actor, err)
		}
	}
	if !req.AutoMerge {
		return nil
	}
	sha, _, err := r.Merge.Do(ctx, func(ctx context.Context) (string, error) {
		return gh.Merge(ctx, req.Repo, pr.Number, res.Commit, MergeTitle, repo.MergeMethod)
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
