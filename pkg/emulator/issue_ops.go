package emulator

import (
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Operations on issues and PRs shared by the REST handlers and the Go API. Callers hold r.mu.

func (e *Emulator) createIssue(r *repo, author *user, title, body string) (*issue, *apiError) {
	if title == "" {
		return nil, errValidation("Issue", "title", "missing_field", "")
	}
	t := now()
	is := &issue{number: r.nextNumber, id: e.newID(), title: title, body: body, user: author, state: "open", createdAt: t, updatedAt: t}
	r.nextNumber++
	r.issues[is.number] = is
	e.emit(r, "issues", "opened", author, map[string]any{"issue": e.issueJSON(r, is)})
	e.changed(r)
	return is, nil
}

// repoLabel returns the repository label called name, creating it if missing.
func (e *Emulator) repoLabel(r *repo, name string) *label {
	key := strings.ToLower(name)
	if l, ok := r.labels[key]; ok {
		return l
	}
	l := &label{id: e.newID(), name: name, color: "ededed"}
	r.labels[key] = l
	return l
}

func (e *Emulator) addLabels(r *repo, actor *user, is *issue, names []string) *apiError {
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return errValidation("Label", "name", "invalid", "")
		}
	}
	for _, n := range names {
		l := e.repoLabel(r, n)
		if slices.Contains(is.labels, l) {
			continue
		}
		is.labels = append(is.labels, l)
		sort.Slice(is.labels, func(i, j int) bool { return strings.ToLower(is.labels[i].name) < strings.ToLower(is.labels[j].name) })
		is.updatedAt = now()
		e.emitLabelEvent(r, actor, is, "labeled", l)
	}
	e.changed(r)
	return nil
}

func (e *Emulator) emitLabelEvent(r *repo, actor *user, is *issue, action string, l *label) {
	if is.pr != nil {
		e.emitPull(r, is, action, actor, map[string]any{"label": e.labelJSON(r, l)})
		return
	}
	e.emit(r, "issues", action, actor, map[string]any{"issue": e.issueJSON(r, is), "label": e.labelJSON(r, l)})
}

func (e *Emulator) removeLabel(r *repo, actor *user, is *issue, name string) *apiError {
	for i, l := range is.labels {
		if strings.EqualFold(l.name, name) {
			is.labels = append(is.labels[:i], is.labels[i+1:]...)
			is.updatedAt = now()
			e.emitLabelEvent(r, actor, is, "unlabeled", l)
			e.changed(r)
			return nil
		}
	}
	return errStatus(http.StatusNotFound, "Label does not exist")
}

func (e *Emulator) setLabels(r *repo, actor *user, is *issue, names []string) *apiError {
	keep := map[string]bool{}
	for _, n := range names {
		keep[strings.ToLower(n)] = true
	}
	for _, l := range slices.Clone(is.labels) {
		if !keep[strings.ToLower(l.name)] {
			_ = e.removeLabel(r, actor, is, l.name)
		}
	}
	return e.addLabels(r, actor, is, names)
}

func (e *Emulator) addAssignees(r *repo, actor *user, is *issue, logins []string) {
	for _, login := range logins {
		u := e.users.get(login)
		if slices.Contains(is.assignees, u) {
			continue
		}
		is.assignees = append(is.assignees, u)
		is.updatedAt = now()
		if is.pr != nil {
			e.emitPull(r, is, "assigned", actor, map[string]any{"assignee": e.userJSON(u)})
		}
	}
	e.changed(r)
}

func (e *Emulator) removeAssignees(r *repo, actor *user, is *issue, logins []string) {
	for _, login := range logins {
		u, ok := e.users.find(login)
		if !ok {
			continue
		}
		if i := slices.Index(is.assignees, u); i >= 0 {
			is.assignees = append(is.assignees[:i], is.assignees[i+1:]...)
			if is.pr != nil {
				e.emitPull(r, is, "unassigned", actor, map[string]any{"assignee": e.userJSON(u)})
			}
		}
	}
	e.changed(r)
}

func (e *Emulator) createComment(r *repo, author *user, is *issue, body string) (*comment, *apiError) {
	if body == "" {
		return nil, errValidation("IssueComment", "body", "missing_field", "")
	}
	if len(body) > 65536 {
		return nil, errValidation("IssueComment", "body", "custom", "Body is too long (maximum is 65536 characters)")
	}
	t := now()
	c := &comment{id: e.newID(), issue: is.number, user: author, body: body, createdAt: t, updatedAt: t}
	r.comments[c.id] = c
	is.comments = append(is.comments, c)
	is.updatedAt = t
	e.emitIssueComment(r, is, c, "created", author, nil)
	e.changed(r)
	return c, nil
}

func (e *Emulator) editComment(r *repo, actor *user, c *comment, body string) *apiError {
	if body == "" {
		return errValidation("IssueComment", "body", "missing_field", "")
	}
	if len(body) > 65536 {
		return errValidation("IssueComment", "body", "custom", "Body is too long (maximum is 65536 characters)")
	}
	old := c.body
	c.body, c.updatedAt = body, now()
	if old != body {
		e.emitIssueComment(r, r.issues[c.issue], c, "edited", actor, map[string]any{"changes": map[string]any{"body": map[string]any{"from": old}}})
	}
	e.changed(r)
	return nil
}

func (e *Emulator) deleteComment(r *repo, actor *user, c *comment) {
	is := r.issues[c.issue]
	delete(r.comments, c.id)
	if i := slices.Index(is.comments, c); i >= 0 {
		is.comments = append(is.comments[:i], is.comments[i+1:]...)
	}
	e.emitIssueComment(r, is, c, "deleted", actor, nil)
	e.changed(r)
}

var reviewStates = map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "PENDING"}

func unprocessable(reason string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: "Unprocessable Entity", Errors: []any{reason}}
}

func (e *Emulator) createReview(r *repo, actor *user, is *issue, event, body, commitID string) (*review, *apiError) {
	state, ok := reviewStates[event]
	if !ok {
		return nil, unprocessable("Invalid event: " + event)
	}
	own := is.user == actor
	switch {
	case event == "APPROVE" && own:
		return nil, unprocessable("Can not approve your own pull request")
	case event == "REQUEST_CHANGES" && own:
		return nil, unprocessable("Can not request changes on your own pull request")
	case (event == "REQUEST_CHANGES" || event == "COMMENT") && body == "":
		return nil, unprocessable("Body is required for event " + event)
	}
	sha := is.pr.headSHA
	if commitID != "" {
		h, exists := e.commitExists(r, commitID)
		if !exists {
			return nil, unprocessable("Commit ID is not part of the pull request")
		}
		sha = h
	}
	rv := &review{id: e.newID(), user: actor, body: body, state: state, commitID: sha, submittedAt: now()}
	is.pr.reviews = append(is.pr.reviews, rv)
	if state != "PENDING" {
		e.emit(r, "pull_request_review", "submitted", actor, map[string]any{
			"review": e.reviewJSON(r, is, rv), "pull_request": e.pullJSON(r, is, false),
		})
	}
	e.changed(r)
	return rv, nil
}
