package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// updateIssueHandler is PATCH /repos/{owner}/{repo}/issues/{number} (issues
// and pull requests): title, body, state, and labels and assignees, which
// replace the issue's when given (labels are created as needed).
func (e *Emulator) updateIssueHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Title     *string   `json:"title"`
		Body      *string   `json:"body"`
		State     *string   `json:"state"`
		Labels    *[]string `json:"labels"`
		Assignees *[]string `json:"assignees"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	withIssue(w, r, c, true, func(is *issue) *apiError {
		if is.pr != nil && (in.Title != nil || in.Body != nil || in.State != nil) {
			if aerr := e.updatePull(c.repo, c.id.user, is, pullUpdate{Title: in.Title, Body: in.Body, State: in.State}); aerr != nil {
				return aerr
			}
		} else if aerr := e.updatePlainIssue(is, in.Title, in.Body, in.State); aerr != nil {
			return aerr
		}
		if in.Labels != nil {
			if aerr := e.setLabels(c.repo, c.id.user, is, *in.Labels); aerr != nil {
				return aerr
			}
		}
		if in.Assignees != nil {
			e.setAssignees(c.repo, c.id.user, is, *in.Assignees)
		}
		writeJSON(w, http.StatusOK, e.issueJSON(c.repo, is))
		return nil
	})
}

func (e *Emulator) updatePlainIssue(is *issue, title, body, state *string) *apiError {
	if state != nil && *state != "open" && *state != "closed" {
		return errValidation("Issue", "state", "invalid", "")
	}
	if title != nil {
		is.title = *title
	}
	if body != nil {
		is.body = *body
	}
	if state != nil && *state != is.state {
		is.state = *state
		t := now()
		if is.state == "closed" {
			is.closedAt = &t
		} else {
			is.closedAt = nil
		}
	}
	if title != nil || body != nil || state != nil {
		is.updatedAt = now()
	}
	return nil
}

// setAssignees makes logins the issue's assignees.
func (e *Emulator) setAssignees(r *repo, actor *user, is *issue, logins []string) {
	var gone []string
	for _, u := range is.assignees {
		if !slices.ContainsFunc(logins, func(l string) bool { return strings.EqualFold(l, u.Login) }) {
			gone = append(gone, u.Login)
		}
	}
	e.removeAssignees(r, actor, is, gone)
	e.addAssignees(r, actor, is, logins)
}
