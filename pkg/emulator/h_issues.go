package emulator

import (
	"encoding/json"
	"net/http"
	"time"
)

func (e *Emulator) registerIssues(add routeAdder) {
	add("POST", "/repos/{owner}/{repo}/issues", accessUser, e.createIssueHandler)
	add("GET", "/repos/{owner}/{repo}/issues/{number}", accessUser, e.getIssue)
	add("PATCH", "/repos/{owner}/{repo}/issues/{number}", accessUser, e.updateIssueHandler)
	add("GET", "/repos/{owner}/{repo}/issues/{number}/comments", accessUser, e.listComments)
	add("POST", "/repos/{owner}/{repo}/issues/{number}/comments", accessUser, e.createCommentHandler)
	add("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", accessUser, e.getComment)
	add("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", accessUser, e.editCommentHandler)
	add("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", accessUser, e.deleteCommentHandler)
	add("GET", "/repos/{owner}/{repo}/issues/{number}/labels", accessUser, e.listIssueLabels)
	add("POST", "/repos/{owner}/{repo}/issues/{number}/labels", accessUser, e.labelsHandler(false))
	add("PUT", "/repos/{owner}/{repo}/issues/{number}/labels", accessUser, e.labelsHandler(true))
	add("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels", accessUser, e.clearLabels)
	add("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels/{name}", accessUser, e.removeLabelHandler)
	add("POST", "/repos/{owner}/{repo}/issues/{number}/assignees", accessUser, e.assigneesHandler(true))
	add("DELETE", "/repos/{owner}/{repo}/issues/{number}/assignees", accessUser, e.assigneesHandler(false))
	add("GET", "/repos/{owner}/{repo}/labels", accessUser, e.listRepoLabels)
}

// withIssue runs fn with the repository locked (for writing when write) and the issue of
// {number} found.
func withIssue(w http.ResponseWriter, r *http.Request, c *reqCtx, write bool, fn func(is *issue) *apiError) {
	if write {
		c.repo.mu.Lock()
		defer c.repo.mu.Unlock()
	} else {
		c.repo.mu.RLock()
		defer c.repo.mu.RUnlock()
	}
	is, aerr := issueParam(r, c)
	if aerr == nil {
		aerr = fn(is)
	}
	if aerr != nil {
		writeError(w, aerr)
	}
}

func (e *Emulator) createIssueHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Title     string   `json:"title"`
		Body      string   `json:"body"`
		Labels    []string `json:"labels"`
		Assignees []string `json:"assignees"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	is, aerr := e.createIssue(rp, c.id.user, in.Title, in.Body)
	if aerr == nil {
		aerr = e.addLabels(rp, c.id.user, is, in.Labels)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	e.addAssignees(rp, c.id.user, is, in.Assignees)
	writeJSON(w, http.StatusCreated, e.issueJSON(rp, is))
}

func (e *Emulator) getIssue(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	withIssue(w, r, c, false, func(is *issue) *apiError {
		writeJSON(w, http.StatusOK, e.issueJSON(c.repo, is))
		return nil
	})
}

func (e *Emulator) listComments(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	withIssue(w, r, c, false, func(is *issue) *apiError {
		list := is.comments
		if s := r.URL.Query().Get("since"); s != "" {
			since, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return errValidation("IssueComment", "since", "invalid", "")
			}
			list = nil
			for _, cm := range is.comments {
				if !cm.updatedAt.Before(since) {
					list = append(list, cm)
				}
			}
		}
		out := []*jComment{}
		for _, cm := range paginate(e, w, r, list) {
			out = append(out, e.commentJSON(c.repo, cm))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

func (e *Emulator) createCommentHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Body string `json:"body"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	withIssue(w, r, c, true, func(is *issue) *apiError {
		cm, aerr := e.createComment(c.repo, c.id.user, is, in.Body)
		if aerr == nil {
			writeJSON(w, http.StatusCreated, e.commentJSON(c.repo, cm))
		}
		return aerr
	})
}

func commentParam(r *http.Request, c *reqCtx) (*comment, *apiError) {
	id, ok := intParam(r, "comment_id")
	if !ok {
		return nil, errNotFound()
	}
	cm, ok := c.repo.comments[id]
	if !ok {
		return nil, errNotFound()
	}
	return cm, nil
}

func (e *Emulator) getComment(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	cm, aerr := commentParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, e.commentJSON(c.repo, cm))
}

func (e *Emulator) editCommentHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Body string `json:"body"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	c.repo.mu.Lock()
	defer c.repo.mu.Unlock()
	cm, aerr := commentParam(r, c)
	if aerr == nil {
		aerr = e.editComment(c.repo, c.id.user, cm, in.Body)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, e.commentJSON(c.repo, cm))
}

func (e *Emulator) deleteCommentHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.Lock()
	defer c.repo.mu.Unlock()
	cm, aerr := commentParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	e.deleteComment(c.repo, c.id.user, cm)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) listIssueLabels(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	withIssue(w, r, c, false, func(is *issue) *apiError {
		writeJSON(w, http.StatusOK, e.labelsJSON(c.repo, paginate(e, w, r, is.labels)))
		return nil
	})
}

// decodeLabels accepts both a JSON array of names and {"labels": [...]}, as GitHub does.
func decodeLabels(r *http.Request) ([]string, *apiError) {
	var raw json.RawMessage
	if aerr := decodeBody(r, &raw); aerr != nil {
		return nil, aerr
	}
	var names []string
	if json.Unmarshal(raw, &names) == nil {
		return names, nil
	}
	var obj struct {
		Labels []json.RawMessage `json:"labels"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errStatus(http.StatusBadRequest, "Problems parsing JSON")
	}
	for _, l := range obj.Labels {
		var name string
		var named struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(l, &name) != nil {
			if json.Unmarshal(l, &named) != nil {
				return nil, errStatus(http.StatusBadRequest, "Problems parsing JSON")
			}
			name = named.Name
		}
		names = append(names, name)
	}
	return names, nil
}

func (e *Emulator) labelsHandler(replace bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		names, aerr := decodeLabels(r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		withIssue(w, r, c, true, func(is *issue) *apiError {
			var aerr *apiError
			if replace {
				aerr = e.setLabels(c.repo, c.id.user, is, names)
			} else {
				aerr = e.addLabels(c.repo, c.id.user, is, names)
			}
			if aerr == nil {
				writeJSON(w, http.StatusOK, e.labelsJSON(c.repo, is.labels))
			}
			return aerr
		})
	}
}

func (e *Emulator) clearLabels(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	withIssue(w, r, c, true, func(is *issue) *apiError {
		if aerr := e.setLabels(c.repo, c.id.user, is, nil); aerr != nil {
			return aerr
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (e *Emulator) removeLabelHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	withIssue(w, r, c, true, func(is *issue) *apiError {
		if aerr := e.removeLabel(c.repo, c.id.user, is, param(r, "name")); aerr != nil {
			return aerr
		}
		writeJSON(w, http.StatusOK, e.labelsJSON(c.repo, is.labels))
		return nil
	})
}

func (e *Emulator) assigneesHandler(add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		var in struct {
			Assignees []string `json:"assignees"`
		}
		if aerr := decodeBody(r, &in); aerr != nil {
			writeError(w, aerr)
			return
		}
		withIssue(w, r, c, true, func(is *issue) *apiError {
			status := http.StatusOK
			if add {
				e.addAssignees(c.repo, c.id.user, is, in.Assignees)
				status = http.StatusCreated
			} else {
				e.removeAssignees(c.repo, c.id.user, is, in.Assignees)
			}
			writeJSON(w, status, e.issueJSON(c.repo, is))
			return nil
		})
	}
}

func (e *Emulator) listRepoLabels(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	var all []*label
	for _, l := range c.repo.labels {
		all = append(all, l)
	}
	sortLabels(all)
	writeJSON(w, http.StatusOK, e.labelsJSON(c.repo, paginate(e, w, r, all)))
}
