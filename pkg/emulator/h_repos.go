package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// maxDirEntries is GitHub's cap on a contents directory listing.
const maxDirEntries = 1000

// maxContentBytes is the largest file the contents API returns inline.
const maxContentBytes = 1 << 20

func (e *Emulator) registerRepos(add routeAdder) {
	add("GET", "/repos/{owner}/{repo}", accessUser, e.getRepo)
	add("GET", "/repos/{owner}/{repo}/branches", accessUser, e.listBranches)
	add("GET", "/repos/{owner}/{repo}/branches/*", accessUser, e.getBranch)
	add("GET", "/repos/{owner}/{repo}/contents", accessUser, e.getContents)
	add("GET", "/repos/{owner}/{repo}/contents/*", accessUser, e.getContents)
	add("PUT", "/repos/{owner}/{repo}/contents/*", accessUser, e.putContents)
	add("DELETE", "/repos/{owner}/{repo}/contents/*", accessUser, e.deleteContents)
	add("GET", "/{owner}/{repo}/raw/*", accessUser, e.getRaw)
}

func (e *Emulator) getRepo(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	writeJSON(w, http.StatusOK, e.repoJSON(c.repo, false))
}

func (e *Emulator) listBranches(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	refs := c.repo.git.Refs("refs/heads/")
	out := []map[string]any{}
	for _, ref := range paginate(e, w, r, refs) {
		out = append(out, map[string]any{
			"name":      strings.TrimPrefix(ref.Name, "refs/heads/"),
			"commit":    map[string]any{"sha": ref.Hash.String(), "url": e.commitURL(c.repo, ref.Hash)},
			"protected": false,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) getBranch(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	c.repo.mu.RLock()
	defer c.repo.mu.RUnlock()
	name := param(r, "*")
	h, ok := c.repo.git.Ref("refs/heads/" + name)
	if !ok {
		writeError(w, errStatus(http.StatusNotFound, "Branch not found"))
		return
	}
	rc, aerr := e.repoCommitJSON(c.repo, h, false)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": name, "commit": rc, "protected": false,
		"_links": map[string]any{"self": fmt.Sprintf("%s/repos/%s/branches/%s", e.apiURL(), c.repo.fullName(), name),
			"html": fmt.Sprintf("%s/%s/tree/%s", e.opts.HTMLURL, c.repo.fullName(), name)},
	})
}

// refTree resolves the ?ref= query (default branch when empty) to its commit and root tree.
func (e *Emulator) refTree(rp *repo, ref string) (hash, hash, *apiError) {
	if ref == "" {
		ref = rp.defaultBranch
	}
	h, ok := resolveCommit(rp, ref)
	if !ok {
		return hash{}, hash{}, errStatus(http.StatusNotFound, "No commit found for the ref "+ref)
	}
	cm, err := rp.git.Commit(h)
	if err != nil {
		return hash{}, hash{}, errStatus(http.StatusInternalServerError, err.Error())
	}
	return h, cm.Tree, nil
}

func contentType(mode filemode.FileMode) string {
	switch mode {
	case filemode.Dir:
		return "dir"
	case filemode.Symlink:
		return "symlink"
	case filemode.Submodule:
		return "submodule"
	}
	return "file"
}

func (e *Emulator) contentEntry(rp *repo, p string, en gitstore.Entry, ref string) map[string]any {
	base := e.apiURL() + "/repos/" + rp.fullName()
	typ := contentType(en.Mode)
	self := fmt.Sprintf("%s/contents/%s?ref=%s", base, p, ref)
	gitURL := fmt.Sprintf("%s/git/blobs/%s", base, en.Hash)
	htmlKind := "blob"
	if typ == "dir" {
		gitURL = fmt.Sprintf("%s/git/trees/%s", base, en.Hash)
		htmlKind = "tree"
	}
	htmlURL := fmt.Sprintf("%s/%s/%s/%s/%s", e.opts.HTMLURL, rp.fullName(), htmlKind, ref, p)
	var download any
	size := int64(0)
	if typ == "file" || typ == "symlink" {
		download = fmt.Sprintf("%s/%s/raw/%s/%s", e.rootURL, rp.fullName(), ref, p)
		size, _ = rp.git.BlobSize(en.Hash)
	}
	return map[string]any{
		"type": typ, "size": size, "name": path.Base(p), "path": p, "sha": en.Hash.String(),
		"url": self, "git_url": gitURL, "html_url": htmlURL, "download_url": download,
		"_links": map[string]any{"self": self, "git": gitURL, "html": htmlURL},
	}
}

func (e *Emulator) getContents(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	p := strings.Trim(param(r, "*"), "/")
	ref := r.URL.Query().Get("ref")
	_, root, aerr := e.refTree(rp, ref)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if ref == "" {
		ref = rp.defaultBranch
	}
	en, ok, err := rp.git.Lookup(root, p)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	if !ok {
		writeError(w, errNotFound())
		return
	}
	if en.IsTree() {
		t, err := rp.git.Tree(en.Hash)
		if err != nil {
			writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
			return
		}
		out := []map[string]any{}
		for _, child := range t.Entries {
			if len(out) == maxDirEntries {
				break
			}
			out = append(out, e.contentEntry(rp, strings.TrimPrefix(p+"/"+child.Name, "/"), child, ref))
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	data, err := rp.git.Blob(en.Hash)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "raw") {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
		return
	}
	out := e.contentEntry(rp, p, en, ref)
	if en.Mode == filemode.Symlink {
		out["target"] = string(data)
	}
	if len(data) > maxContentBytes {
		out["content"], out["encoding"] = "", "none"
	} else {
		out["content"], out["encoding"] = wrapBase64(data), "base64"
	}
	writeJSON(w, http.StatusOK, out)
}

// wrapBase64 encodes like GitHub's contents API: base64 with a newline every 60 characters.
func wrapBase64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

func (e *Emulator) getRaw(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	rest := param(r, "*")
	// The ref may contain slashes: try the longest ref prefix that resolves.
	segs := strings.Split(rest, "/")
	for i := len(segs) - 1; i >= 1; i-- {
		if h, ok := resolveCommit(rp, strings.Join(segs[:i], "/")); ok {
			cm, err := rp.git.Commit(h)
			if err != nil {
				break
			}
			en, found, err := rp.git.Lookup(cm.Tree, strings.Join(segs[i:], "/"))
			if err != nil || !found || en.IsTree() {
				break
			}
			data, err := rp.git.Blob(en.Hash)
			if err != nil {
				break
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(data)
			return
		}
	}
	writeError(w, errNotFound())
}
