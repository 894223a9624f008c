package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func sortLabels(ls []*label) {
	sort.Slice(ls, func(i, j int) bool { return strings.ToLower(ls[i].name) < strings.ToLower(ls[j].name) })
}

func (e *Emulator) reviewJSON(r *repo, is *issue, rv *review) map[string]any {
	html := fmt.Sprintf("%s/%s/pull/%d#pullrequestreview-%d", e.opts.HTMLURL, r.fullName(), is.number, rv.id)
	prURL := fmt.Sprintf("%s/repos/%s/pulls/%d", e.apiURL(), r.fullName(), is.number)
	out := map[string]any{
		"id": rv.id, "node_id": nodeID("PRR", r.id, rv.id), "user": e.userJSON(rv.user), "body": rv.body,
		"state": rv.state, "html_url": html, "pull_request_url": prURL, "commit_id": rv.commitID.String(),
		"author_association": association(r, rv.user),
		"_links":             map[string]any{"html": map[string]string{"href": html}, "pull_request": map[string]string{"href": prURL}},
	}
	if rv.state != "PENDING" {
		out["submitted_at"] = ts(rv.submittedAt)
	}
	return out
}

func (e *Emulator) listReviews(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	out := []map[string]any{}
	for _, rv := range paginate(e, w, r, is.pr.reviews) {
		if rv.state == "PENDING" && rv.user != c.id.user {
			continue
		}
		out = append(out, e.reviewJSON(c.repo, is, rv))
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) createReviewHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		CommitID string `json:"commit_id"`
		Body     string `json:"body"`
		Event    string `json:"event"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	c.repo.mu.Lock()
	defer c.repo.mu.Unlock()
	is, aerr := pullParam(r, c)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rv, aerr := e.createReview(c.repo, c.id.user, is, strings.ToUpper(in.Event), in.Body, in.CommitID)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, e.reviewJSON(c.repo, is, rv))
}
