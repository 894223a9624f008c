package emulator

import (
	"fmt"
	"net/http"
	"sort"
)

func (e *Emulator) registerCommits(add routeAdder) {
	add("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", accessUser, e.listStatuses)
	add("GET", "/repos/{owner}/{repo}/commits/{ref}/status", accessUser, e.combinedStatus)
	add("GET", "/repos/{owner}/{repo}/commits/*", accessUser, e.getCommit)
	add("GET", "/repos/{owner}/{repo}/compare/*", accessUser, e.compare)
	add("POST", "/repos/{owner}/{repo}/statuses/{sha}", accessUser, e.createStatusHandler)
	add("GET", "/repos/{owner}/{repo}/statuses/{sha}", accessUser, e.listStatuses)
}

var statusStates = map[string]bool{"pending": true, "success": true, "error": true, "failure": true}

// createStatus records a commit status. The caller holds r.mu.
func (e *Emulator) createStatus(r *repo, actor *user, sha, state, targetURL, description, ctx string) (*status, *apiError) {
	h, ok := e.commitExists(r, sha)
	if !ok {
		return nil, errUnprocessable("No commit found for SHA: " + sha)
	}
	if !statusStates[state] {
		return nil, errValidation("Status", "state", "custom", "state is not included in the list")
	}
	if ctx == "" {
		ctx = "default"
	}
	t := now()
	st := &status{id: e.newID(), state: state, targetURL: targetURL, description: description, context: ctx, creator: actor, createdAt: t, updatedAt: t}
	r.statuses[h] = append(r.statuses[h], st)
	e.changed(r)
	return st, nil
}

func (e *Emulator) statusJSON(r *repo, h hash, st *status) map[string]any {
	return map[string]any{
		"url":        fmt.Sprintf("%s/repos/%s/statuses/%s", e.apiURL(), r.fullName(), h),
		"avatar_url": e.userJSON(st.creator).AvatarURL, "id": st.id, "node_id": nodeID("SC", r.id, st.id),
		"state": st.state, "description": optString(st.description), "target_url": optString(st.targetURL),
		"context": st.context, "created_at": ts(st.createdAt), "updated_at": ts(st.updatedAt),
		"creator": e.userJSON(st.creator),
	}
}

func (e *Emulator) createStatusHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	sha := param(r, "sha")
	st, aerr := e.createStatus(rp, c.id.user, sha, in.State, in.TargetURL, in.Description, in.Context)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	h, _ := parseHash(sha)
	writeJSON(w, http.StatusCreated, e.statusJSON(rp, h, st))
}

// statusRefParam names the ref of the statuses routes; branch names with slashes reach
// them through the commits/* route (see getCommit).
func statusRefParam(r *http.Request) string {
	if ref, ok := r.Context().Value(statusRefKey{}).(string); ok {
		return ref
	}
	if ref := param(r, "ref"); ref != "" {
		return ref
	}
	return param(r, "sha")
}

type statusRefKey struct{}

func (e *Emulator) statusRef(w http.ResponseWriter, r *http.Request, c *reqCtx) (hash, bool) {
	ref := statusRefParam(r)
	h, ok := resolveCommit(c.repo, ref)
	if !ok {
		writeError(w, errStatus(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref))
	}
	return h, ok
}

func (e *Emulator) listStatuses(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	h, ok := e.statusRef(w, r, c)
	if !ok {
		return
	}
	all := rp.statuses[h]
	newestFirst := make([]*status, len(all))
	for i, st := range all {
		newestFirst[len(all)-1-i] = st
	}
	out := []map[string]any{}
	for _, st := range paginate(e, w, r, newestFirst) {
		out = append(out, e.statusJSON(rp, h, st))
	}
	writeJSON(w, http.StatusOK, out)
}

// latestByContext keeps the newest status of each context, sorted by context.
func latestByContext(all []*status) []*status {
	latest := map[string]*status{}
	for _, st := range all {
		latest[st.context] = st
	}
	out := make([]*status, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].context < out[j].context })
	return out
}

// combinedState follows GitHub: failure if any status failed or errored, pending if any
// is pending or there are none, success otherwise.
func combinedState(latest []*status) string {
	if len(latest) == 0 {
		return "pending"
	}
	state := "success"
	for _, st := range latest {
		switch st.state {
		case "error", "failure":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

func (e *Emulator) combinedStatus(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	h, ok := e.statusRef(w, r, c)
	if !ok {
		return
	}
	latest := latestByContext(rp.statuses[h])
	statuses := []map[string]any{}
	for _, st := range paginate(e, w, r, latest) {
		statuses = append(statuses, e.statusJSON(rp, h, st))
	}
	repoJ := e.repoJSON(rp, false)
	writeJSON(w, http.StatusOK, map[string]any{
		"state": combinedState(latest), "statuses": statuses, "sha": h.String(), "total_count": len(latest),
		"repository": repoJ, "commit_url": e.commitURL(rp, h),
		"url": fmt.Sprintf("%s/repos/%s/commits/%s/status", e.apiURL(), rp.fullName(), h),
	})
}
