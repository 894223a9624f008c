package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

type newPull struct {
	Title, Body, Head, Base string
	Draft                   bool
}

// createPull opens a PR as author, with GitHub's validation. The caller holds r.mu.
func (e *Emulator) createPull(r *repo, author *user, in newPull) (*issue, *apiError) {
	if in.Title == "" {
		return nil, errValidation("PullRequest", "title", "missing_field", "")
	}
	if in.Base == "" {
		return nil, errValidation("PullRequest", "base", "missing_field", "")
	}
	// GitHub also accepts the head as a full ref name.
	head, sameRepo := parseHead(r, in.Head)
	head = strings.TrimPrefix(head, "refs/heads/")
	headSHA, ok := r.git.Ref("refs/heads/" + head)
	if in.Head == "" || !sameRepo || !ok {
		return nil, errValidation("PullRequest", "head", "invalid", "")
	}
	baseSHA, ok := r.git.Ref("refs/heads/" + in.Base)
	if !ok {
		return nil, errValidation("PullRequest", "base", "invalid", "")
	}
	if openPullFor(r, head, in.Base) != nil {
		return nil, alreadyExists(r, head)
	}
	ahead, err := r.git.Exclusive(headSHA, []hash{baseSHA}, 1)
	if err != nil {
		return nil, errStatus(http.StatusInternalServerError, err.Error())
	}
	if len(ahead) == 0 {
		return nil, errValidation("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", in.Base, head))
	}
	t := now()
	is := &issue{
		number: r.nextNumber, id: e.newID(), title: in.Title, body: in.Body, user: author, state: "open",
		createdAt: t, updatedAt: t,
		pr: &pull{id: e.newID(), headRef: head, baseRef: in.Base, headSHA: headSHA, baseSHA: baseSHA, draft: in.Draft},
	}
	r.nextNumber++
	r.issues[is.number] = is
	e.emitPull(r, is, "opened", author, nil)
	e.changed(r)
	return is, nil
}

type pullUpdate struct {
	Title, Body, State, Base *string
}

// updatePull edits a PR like PATCH /pulls/{n}. The caller holds r.mu.
func (e *Emulator) updatePull(r *repo, actor *user, is *issue, u pullUpdate) *apiError {
	p := is.pr
	if u.State != nil && *u.State != "open" && *u.State != "closed" {
		return errValidation("PullRequest", "state", "invalid", "")
	}
	if u.Base != nil && *u.Base != p.baseRef {
		if is.state != "open" {
			return errUnprocessable("Cannot change the base branch of a closed pull request.")
		}
		if _, ok := r.git.Ref("refs/heads/" + *u.Base); !ok {
			return errValidation("PullRequest", "base", "invalid", "")
		}
		if openPullFor(r, p.headRef, *u.Base) != nil {
			return alreadyExists(r, p.headRef)
		}
	}
	if u.State != nil && *u.State == "open" && is.state == "closed" {
		if p.merged {
			return errUnprocessable("Cannot reopen a merged pull request")
		}
		head, ok := r.git.Ref("refs/heads/" + p.headRef)
		if !ok {
			return errValidation("PullRequest", "state", "custom", "state cannot be changed. The "+p.headRef+" branch has been deleted.")
		}
		if openPullFor(r, p.headRef, p.baseRef) != nil {
			return alreadyExists(r, p.headRef)
		}
		p.headSHA = head
	}
	changes := map[string]any{}
	if u.Title != nil && *u.Title != is.title {
		changes["title"] = map[string]any{"from": is.title}
		is.title = *u.Title
	}
	if u.Body != nil && *u.Body != is.body {
		changes["body"] = map[string]any{"from": is.body}
		is.body = *u.Body
	}
	if u.Base != nil && *u.Base != p.baseRef {
		changes["base"] = map[string]any{"ref": map[string]any{"from": p.baseRef}, "sha": map[string]any{"from": p.baseSHA.String()}}
		p.baseRef = *u.Base
		p.baseSHA, _ = r.git.Ref("refs/heads/" + p.baseRef)
	}
	if len(changes) > 0 {
		is.updatedAt = now()
		e.emitPull(r, is, "edited", actor, map[string]any{"changes": changes})
	}
	if u.State != nil && *u.State != is.state {
		if *u.State == "closed" {
			e.closePull(r, actor, is)
		} else {
			e.reopenPull(r, actor, is)
		}
	}
	e.changed(r)
	return nil
}

// closePull closes an open PR without merging it. The caller holds r.mu.
func (e *Emulator) closePull(r *repo, actor *user, is *issue) {
	p := is.pr
	if from, _, err := e.pullRange(r, is); err == nil {
		p.diffBase = from
	}
	if h, ok := r.git.Ref("refs/heads/" + p.baseRef); ok {
		p.baseSHA = h
	}
	t := now()
	is.state, is.closedAt, is.closedBy, is.updatedAt = "closed", &t, actor, t
	e.emitPull(r, is, "closed", actor, nil)
}

func (e *Emulator) reopenPull(r *repo, actor *user, is *issue) {
	is.state, is.closedAt, is.closedBy, is.updatedAt = "open", nil, nil, now()
	is.pr.diffBase = hash{}
	e.emitPull(r, is, "reopened", actor, nil)
}

var errClosed = errStatus(http.StatusMethodNotAllowed, "Pull Request is not mergeable")

type mergeRequest struct {
	CommitTitle, CommitMessage, SHA, Method string
}

// mergePull merges a PR into its base like PUT /pulls/{n}/merge. The caller holds r.mu.
func (e *Emulator) mergePull(r *repo, actor *user, is *issue, in mergeRequest) (hash, *apiError) {
	p := is.pr
	if is.state != "open" {
		return hash{}, errClosed
	}
	if in.Method == "" {
		in.Method = "merge"
	}
	if in.Method != "merge" && in.Method != "squash" && in.Method != "rebase" {
		return hash{}, errValidation("PullRequest", "merge_method", "invalid", "")
	}
	if in.SHA != "" && in.SHA != p.headSHA.String() {
		return hash{}, errStatus(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	}
	if p.draft {
		return hash{}, errStatus(http.StatusMethodNotAllowed, "Pull Request is still a draft")
	}
	if e.ctl.takeMergeFailure() {
		return hash{}, errStatus(http.StatusMethodNotAllowed, "Base branch was modified. Review and try the merge again.")
	}
	baseHead, ok := r.git.Ref("refs/heads/" + p.baseRef)
	if !ok {
		return hash{}, errClosed
	}
	from, _, err := e.pullRange(r, is)
	if err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	var sha hash
	var aerr *apiError
	switch in.Method {
	case "merge":
		sha, aerr = e.mergeCommit(r, actor, is, baseHead, in)
	case "squash":
		sha, aerr = e.squashCommit(r, actor, is, baseHead, from, in)
	case "rebase":
		sha, aerr = e.rebaseCommits(r, is, baseHead, from)
	}
	if aerr != nil {
		if aerr == errConflict {
			p.mergeable = mergeability{base: baseHead, head: p.headSHA, known: true, clean: false}
		}
		return hash{}, aerr
	}
	t := now()
	p.merged, p.mergedAt, p.mergedBy, p.mergeSHA, p.diffBase = true, &t, actor, sha, from
	is.state, is.closedAt, is.closedBy, is.updatedAt = "closed", &t, actor, t
	if err := e.updateRef(r, actor, "refs/heads/"+p.baseRef, sha); err != nil {
		return hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	p.baseSHA = baseHead
	e.emitPull(r, is, "closed", actor, nil)
	return sha, nil
}

var errConflict = errStatus(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
