package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func (e *Emulator) registerPulls(add routeAdder) {
	add("GET", "/repos/{owner}/{repo}/pulls", accessUser, e.listPulls)
	add("POST", "/repos/{owner}/{repo}/pulls", accessUser, e.createPullHandler)
	add("GET", "/repos/{owner}/{repo}/pulls/{number}", accessUser, e.getPull)
	add("PATCH", "/repos/{owner}/{repo}/pulls/{number}", accessUser, e.updatePullHandler)
	add("GET", "/repos/{owner}/{repo}/pulls/{number}/files", accessUser, e.listPullFiles)
	add("GET", "/repos/{owner}/{repo}/pulls/{number}/commits", accessUser, e.listPullCommits)
	add("GET", "/repos/{owner}/{repo}/pulls/{number}/merge", accessUser, e.isMerged)
	add("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", accessUser, e.mergePullHandler)
	add("GET", "/repos/{owner}/{repo}/pulls/{number}/reviews", accessUser, e.listReviews)
	add("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews", accessUser, e.createReviewHandler)
}

func (e *Emulator) listPulls(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head, hasHead := q.Get("head"), q.Has("head")
	base := q.Get("base")
	var list []*issue
	for _, is := range rp.issues {
		if is.pr == nil || (state != "all" && is.state != state) || (base != "" && is.pr.baseRef != base) {
			continue
		}
		if hasHead {
			owner, branch, found := strings.Cut(head, ":")
			if !found {
				branch, owner = owner, rp.owner.Login
			}
			if !strings.EqualFold(owner, rp.owner.Login) || is.pr.headRef != branch {
				continue
			}
		}
		list = append(list, is)
	}
	sortPulls(list, q.Get("sort"), q.Get("direction"))
	out := []any{}
	for _, is := range paginate(e, w, r, list) {
		out = append(out, e.pullJSON(rp, is, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func sortPulls(list []*issue, by, direction string) {
	if by == "" {
		by = "created"
	}
	desc := direction == "desc" || (direction == "" && (by == "created" || by == "updated" || by == "popularity"))
	key := func(is *issue) int64 {
		switch by {
		case "updated":
			return is.updatedAt.UnixNano()
		case "popularity":
			return int64(len(is.comments))
		}
		return is.createdAt.UnixNano()
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		ka, kb := key(a), key(b)
		if ka == kb {
			ka, kb = int64(a.number), int64(b.number)
		}
		if desc {
			return ka > kb
		}
		return ka < kb
	})
}

func (e *Emulator) createPullHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Draft bool   `json:"draft"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	is, aerr := e.createPull(rp, c.id.user, newPull{Title: in.Title, Body: in.Body, Head: in.Head, Base: in.Base, Draft: in.Draft})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/repos/%s/pulls/%d", e.apiURL(), rp.fullName(), is.number))
	writeJSON(w, http.StatusCreated, e.pullJSON(rp, is, true))
}

// getPull shows mergeable as null on the first read after the head or base moved and
// computes it then, so the next read has it, as GitHub's background job does.
func (e *Emulator) getPull(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	out := e.pullJSON(rp, is, true)
	e.refreshMergeable(rp, is)
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) updatePullHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	is, aerr := pullParam(r, c)
	if aerr == nil {
		aerr = e.updatePull(rp, c.id.user, is, pullUpdate{Title: in.Title, Body: in.Body, State: in.State, Base: in.Base})
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, e.pullJSON(rp, is, true))
}

func (e *Emulator) listPullFiles(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	from, to, err := e.pullRange(rp, is)
	var files []prFile
	if err == nil {
		files, _, err = e.commitRangeFiles(rp, from, to)
	}
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	out := []map[string]any{}
	for _, f := range paginate(e, w, r, files) {
		out = append(out, e.fileJSON(rp, to, f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) listPullCommits(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	from, to, err := e.pullRange(rp, is)
	var commits []hash
	if err == nil {
		commits, err = rp.git.Exclusive(to, []hash{from}, 250)
	}
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	var oldestFirst []hash
	for i := len(commits) - 1; i >= 0; i-- {
		oldestFirst = append(oldestFirst, commits[i])
	}
	out := []map[string]any{}
	for _, h := range paginate(e, w, r, oldestFirst) {
		if rc, aerr := e.repoCommitJSON(rp, h, false); aerr == nil {
			out = append(out, rc)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) isMerged(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	is, aerr := pullParam(r, c)
	if aerr != nil || !is.pr.merged {
		writeError(w, errNotFound())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) mergePullHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if r.ContentLength != 0 {
		if aerr := decodeBody(r, &in); aerr != nil {
			writeError(w, aerr)
			return
		}
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	sha, aerr := e.mergePull(rp, c.id.user, is, mergeRequest{CommitTitle: in.CommitTitle, CommitMessage: in.CommitMessage, SHA: in.SHA, Method: in.MergeMethod})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha.String(), "merged": true, "message": "Pull Request successfully merged"})
}
