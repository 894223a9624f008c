package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

func (e *Emulator) registerGit(add routeAdder) {
	add("GET", "/repos/{owner}/{repo}/git/ref/*", accessUser, e.getRef)
	add("GET", "/repos/{owner}/{repo}/git/refs", accessUser, e.listRefs)
	add("GET", "/repos/{owner}/{repo}/git/refs/*", accessUser, e.getRefsLegacy)
	add("GET", "/repos/{owner}/{repo}/git/matching-refs/*", accessUser, e.listMatchingRefs)
	add("POST", "/repos/{owner}/{repo}/git/refs", accessUser, e.createRef)
	add("PATCH", "/repos/{owner}/{repo}/git/refs/*", accessUser, e.updateRefHandler)
	add("DELETE", "/repos/{owner}/{repo}/git/refs/*", accessUser, e.deleteRef)
	add("GET", "/repos/{owner}/{repo}/git/trees/{sha}", accessUser, e.getTree)
	add("POST", "/repos/{owner}/{repo}/git/trees", accessUser, e.createTree)
	add("GET", "/repos/{owner}/{repo}/git/blobs/{sha}", accessUser, e.getBlob)
	add("POST", "/repos/{owner}/{repo}/git/blobs", accessUser, e.createBlob)
	add("GET", "/repos/{owner}/{repo}/git/commits/{sha}", accessUser, e.getGitCommit)
	add("POST", "/repos/{owner}/{repo}/git/commits", accessUser, e.createGitCommit)
}

func (e *Emulator) refJSON(r *repo, name string, h hash) map[string]any {
	return map[string]any{
		"ref": name, "node_id": "REF_" + base64.RawURLEncoding.EncodeToString([]byte("emu:"+r.fullName()+":"+name)),
		"url": fmt.Sprintf("%s/repos/%s/git/%s", e.apiURL(), r.fullName(), name),
		"object": map[string]any{"type": "commit", "sha": h.String(),
			"url": fmt.Sprintf("%s/repos/%s/git/commits/%s", e.apiURL(), r.fullName(), h)},
	}
}

func refName(r *http.Request) string { return "refs/" + strings.TrimPrefix(param(r, "*"), "refs/") }

func (e *Emulator) getRef(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	name := refName(r)
	h, ok := c.repo.git.Ref(name)
	if !ok {
		writeError(w, errNotFound())
		return
	}
	writeJSON(w, http.StatusOK, e.refJSON(c.repo, name, h))
}

func (e *Emulator) refsJSON(w http.ResponseWriter, r *http.Request, c *reqCtx, prefix string) []map[string]any {
	out := []map[string]any{}
	for _, ref := range paginate(e, w, r, c.repo.git.Refs(prefix)) {
		out = append(out, e.refJSON(c.repo, ref.Name, ref.Hash))
	}
	return out
}

func (e *Emulator) listRefs(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	writeJSON(w, http.StatusOK, e.refsJSON(w, r, c, "refs/"))
}

// getRefsLegacy answers GET /git/refs/{ref}: the ref itself when it exists, otherwise the
// list of refs starting with it, otherwise 404.
func (e *Emulator) getRefsLegacy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	name := refName(r)
	if h, ok := c.repo.git.Ref(name); ok {
		writeJSON(w, http.StatusOK, e.refJSON(c.repo, name, h))
		return
	}
	out := e.refsJSON(w, r, c, name)
	if len(out) == 0 {
		writeError(w, errNotFound())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) listMatchingRefs(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	writeJSON(w, http.StatusOK, e.refsJSON(w, r, c, refName(r)))
}

func validRefName(name string) bool {
	if !strings.HasPrefix(name, "refs/") || strings.Count(name, "/") < 2 || strings.HasSuffix(name, "/") ||
		strings.HasSuffix(name, ".lock") || strings.Contains(name, "..") || strings.Contains(name, "//") {
		return false
	}
	return !strings.ContainsAny(name, " ~^:?*[\\\x7f") && !strings.Contains(name, "@{")
}

func (e *Emulator) commitExists(rp *repo, sha string) (hash, bool) {
	h, ok := parseHash(sha)
	if !ok {
		return hash{}, false
	}
	t, err := rp.git.ObjectType(h)
	return h, err == nil && t == plumbing.CommitObject
}

func (e *Emulator) createRef(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	if !validRefName(in.Ref) {
		writeError(w, errUnprocessable("Reference name must start with 'refs/' and have at least two slashes."))
		return
	}
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	h, ok := e.commitExists(rp, in.SHA)
	if !ok {
		writeError(w, errUnprocessable("Object does not exist"))
		return
	}
	if _, exists := rp.git.Ref(in.Ref); exists {
		writeError(w, errUnprocessable("Reference already exists"))
		return
	}
	if err := e.updateRef(rp, c.id.user, in.Ref, h); err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writeJSON(w, http.StatusCreated, e.refJSON(rp, in.Ref, h))
}

func (e *Emulator) updateRefHandler(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	name := refName(r)
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	old, exists := rp.git.Ref(name)
	if !exists {
		writeError(w, errUnprocessable("Reference does not exist"))
		return
	}
	h, ok := e.commitExists(rp, in.SHA)
	if !ok {
		writeError(w, errUnprocessable("Object does not exist"))
		return
	}
	if !in.Force && old != h {
		ff, err := rp.git.IsAncestor(old, h)
		if err != nil {
			writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
			return
		}
		if !ff {
			writeError(w, errUnprocessable("Update is not a fast forward"))
			return
		}
	}
	if old != h {
		if err := e.updateRef(rp, c.id.user, name, h); err != nil {
			writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
			return
		}
	}
	writeJSON(w, http.StatusOK, e.refJSON(rp, name, h))
}

func (e *Emulator) deleteRef(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	name := refName(r)
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if _, exists := rp.git.Ref(name); !exists {
		writeError(w, errUnprocessable("Reference does not exist"))
		return
	}
	if err := e.updateRef(rp, c.id.user, name, hash{}); err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) getBlob(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h, ok := parseHash(param(r, "sha"))
	if !ok {
		writeError(w, errNotFound())
		return
	}
	data, err := c.repo.git.Blob(h)
	if err != nil {
		writeError(w, errNotFound())
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "raw") {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sha": h.String(), "node_id": "B_" + base64.RawURLEncoding.EncodeToString([]byte("emu:blob:"+h.String())),
		"size": len(data), "url": fmt.Sprintf("%s/repos/%s/git/blobs/%s", e.apiURL(), c.repo.fullName(), h),
		"content": wrapBase64(data), "encoding": "base64",
	})
}

func (e *Emulator) createBlob(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	if in.Content == nil {
		writeError(w, errUnprocessable("Invalid request.\n\n\"content\" wasn't supplied."))
		return
	}
	data := []byte(*in.Content)
	switch in.Encoding {
	case "", "utf-8", "utf8":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(*in.Content, "\n", "")); err != nil {
			writeError(w, errUnprocessable("Invalid Base64 content"))
			return
		}
	default:
		writeError(w, errUnprocessable(fmt.Sprintf("encoding must be one of utf-8 or base64, got %q", in.Encoding)))
		return
	}
	h, err := c.repo.git.WriteBlob(data)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"sha": h.String(), "url": fmt.Sprintf("%s/repos/%s/git/blobs/%s", e.apiURL(), c.repo.fullName(), h),
	})
}
