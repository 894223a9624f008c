package emulator

import (
	"fmt"
	"strings"
	"time"
)

// PullRequest is a PR as tests inspect it.
type PullRequest struct {
	Number         int
	Title, Body    string
	State          string // open or closed
	Author         string
	Head, Base     string
	HeadSHA        string
	Draft          bool
	Merged         bool
	MergedBy       string
	MergeCommitSHA string
	Labels         []string
	Assignees      []string
	Reviews        []Review
	Comments       int
}

// Review is a submitted (or pending) pull request review.
type Review struct {
	ID       int64
	Author   string
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED or PENDING
	Body     string
	CommitID string
}

// Comment is an issue or PR comment.
type Comment struct {
	ID              int64
	NodeID          string
	Author, Body    string
	Minimized       bool
	MinimizedReason string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Status is a commit status.
type Status struct {
	ID                               int64
	State, Context, Description, URL string
	Creator                          string
	CreatedAt                        time.Time
}

// Commit describes one commit.
type Commit struct {
	SHA, Tree string
	Parents   []string
	Message   string
	Author    string // name <email>
	Committer string
	Verified  bool
}

// ReadFile returns the content of path at ref (branch, tag or SHA).
func (e *Emulator) ReadFile(repoName, ref, path string) (string, error) {
	var out string
	err := e.readRepo(repoName, func(r *repo) error {
		_, root, aerr := e.refTree(r, ref)
		if aerr != nil {
			return fmt.Errorf("%w: ref %s", ErrNotFound, ref)
		}
		en, ok, err := r.git.Lookup(root, path)
		if err != nil {
			return err
		}
		if !ok || en.IsTree() {
			return fmt.Errorf("%w: %s at %s", ErrNotFound, path, ref)
		}
		data, err := r.git.Blob(en.Hash)
		out = string(data)
		return err
	})
	return out, err
}

// ListFiles returns every file under prefix (a directory, or "" for all) at ref, with its
// content.
func (e *Emulator) ListFiles(repoName, ref, prefix string) (map[string]string, error) {
	out := map[string]string{}
	err := e.readRepo(repoName, func(r *repo) error {
		_, root, aerr := e.refTree(r, ref)
		if aerr != nil {
			return fmt.Errorf("%w: ref %s", ErrNotFound, ref)
		}
		files, err := r.git.Files(root, prefix)
		if err != nil {
			return err
		}
		for p, en := range files {
			data, err := r.git.Blob(en.Hash)
			if err != nil {
				return err
			}
			out[p] = string(data)
		}
		return nil
	})
	return out, err
}

// Branches returns every branch with its head SHA.
func (e *Emulator) Branches(repoName string) (map[string]string, error) {
	out := map[string]string{}
	err := e.readRepo(repoName, func(r *repo) error {
		for _, ref := range r.git.Refs("refs/heads/") {
			out[strings.TrimPrefix(ref.Name, "refs/heads/")] = ref.Hash.String()
		}
		return nil
	})
	return out, err
}

// DefaultBranch returns the repository's default branch.
func (e *Emulator) DefaultBranch(repoName string) (string, error) {
	var b string
	err := e.readRepo(repoName, func(r *repo) error { b = r.defaultBranch; return nil })
	return b, err
}

// GetCommit describes the commit a ref (branch, tag or SHA) points at.
func (e *Emulator) GetCommit(repoName, ref string) (Commit, error) {
	var out Commit
	err := e.readRepo(repoName, func(r *repo) error {
		h, ok := resolveCommit(r, ref)
		if !ok {
			return fmt.Errorf("%w: ref %s", ErrNotFound, ref)
		}
		c, err := r.git.Commit(h)
		if err != nil {
			return err
		}
		out = Commit{SHA: h.String(), Tree: c.Tree.String(), Message: c.Message, Verified: r.verified[h],
			Author:    fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
			Committer: fmt.Sprintf("%s <%s>", c.Committer.Name, c.Committer.Email)}
		for _, p := range c.Parents {
			out.Parents = append(out.Parents, p.String())
		}
		return nil
	})
	return out, err
}

func (e *Emulator) pullView(is *issue) PullRequest {
	p := is.pr
	v := PullRequest{Number: is.number, Title: is.title, Body: is.body, State: is.state, Author: is.user.Login,
		Head: p.headRef, Base: p.baseRef, HeadSHA: p.headSHA.String(), Draft: p.draft, Merged: p.merged,
		MergedBy: loginOrEmpty(p.mergedBy), MergeCommitSHA: hashOrEmpty(p.mergeSHA), Comments: len(is.comments),
		Labels: []string{}, Assignees: []string{}}
	for _, l := range is.labels {
		v.Labels = append(v.Labels, l.name)
	}
	for _, u := range is.assignees {
		v.Assignees = append(v.Assignees, u.Login)
	}
	for _, rv := range p.reviews {
		v.Reviews = append(v.Reviews, Review{ID: rv.id, Author: rv.user.Login, State: rv.state, Body: rv.body, CommitID: rv.commitID.String()})
	}
	return v
}

// PullRequests returns every PR of the repository, by number.
func (e *Emulator) PullRequests(repoName string) ([]PullRequest, error) {
	var out []PullRequest
	err := e.readRepo(repoName, func(r *repo) error {
		for _, is := range r.sortedIssues() {
			if is.pr != nil {
				out = append(out, e.pullView(is))
			}
		}
		return nil
	})
	return out, err
}

// GetPullRequest returns PR number.
func (e *Emulator) GetPullRequest(repoName string, number int) (PullRequest, error) {
	var out PullRequest
	err := e.readRepo(repoName, func(r *repo) error {
		is, ok := r.issues[number]
		if !ok || is.pr == nil {
			return fmt.Errorf("%w: pull request #%d", ErrNotFound, number)
		}
		out = e.pullView(is)
		return nil
	})
	return out, err
}

// Comments returns the comments of issue or PR number, oldest first.
func (e *Emulator) Comments(repoName string, number int) ([]Comment, error) {
	var out []Comment
	err := e.readRepo(repoName, func(r *repo) error {
		is, ok := r.issues[number]
		if !ok {
			return fmt.Errorf("%w: #%d", ErrNotFound, number)
		}
		for _, c := range is.comments {
			out = append(out, Comment{ID: c.id, NodeID: nodeID("IC", r.id, c.id), Author: c.user.Login, Body: c.body,
				Minimized: c.minimized != "", MinimizedReason: c.minimized, CreatedAt: c.createdAt, UpdatedAt: c.updatedAt})
		}
		return nil
	})
	return out, err
}

// Statuses returns the statuses recorded on sha, oldest first.
func (e *Emulator) Statuses(repoName, sha string) ([]Status, error) {
	var out []Status
	err := e.readRepo(repoName, func(r *repo) error {
		h, ok := parseHash(sha)
		if !ok {
			return fmt.Errorf("%w: commit %s", ErrNotFound, sha)
		}
		for _, s := range r.statuses[h] {
			out = append(out, Status{ID: s.id, State: s.state, Context: s.context, Description: s.description,
				URL: s.targetURL, Creator: s.creator.Login, CreatedAt: s.createdAt})
		}
		return nil
	})
	return out, err
}
