package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

func (e *Emulator) getGitCommit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	h, ok := parseHash(param(r, "sha"))
	if !ok {
		writeError(w, errNotFound())
		return
	}
	cm, err := rp.git.Commit(h)
	if err != nil {
		writeError(w, errNotFound())
		return
	}
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	writeJSON(w, http.StatusOK, e.gitCommitJSON(rp, cm))
}

func (e *Emulator) createGitCommit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		Message   *string   `json:"message"`
		Tree      string    `json:"tree"`
		Parents   []string  `json:"parents"`
		Author    *sigInput `json:"author"`
		Committer *sigInput `json:"committer"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	if in.Message == nil {
		writeError(w, errUnprocessable("Invalid request.\n\n\"message\" wasn't supplied."))
		return
	}
	rp := c.repo
	tree, ok := parseHash(in.Tree)
	if ok {
		t, err := rp.git.ObjectType(tree)
		ok = err == nil && t == plumbing.TreeObject
	}
	if !ok {
		writeError(w, errUnprocessable("Tree SHA does not exist"))
		return
	}
	parents := make([]hash, 0, len(in.Parents))
	for _, p := range in.Parents {
		h, ok := e.commitExists(rp, p)
		if !ok {
			writeError(w, errUnprocessable("Parent SHA does not exist or is not a commit object"))
			return
		}
		parents = append(parents, h)
	}
	author, aerr := in.Author.signature()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	committer, aerr := in.Committer.signature()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	verified := author == nil && committer == nil
	if author == nil {
		s := userSignature(c.id.user)
		author = &s
	}
	if committer == nil {
		committer = author
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	h, aerr := e.writeCommit(rp, gitstore.Commit{Tree: tree, Parents: parents, Author: *author, Committer: *committer, Message: *in.Message}, verified)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	cm, err := rp.git.Commit(h)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	e.changed(rp)
	writeJSON(w, http.StatusCreated, e.gitCommitJSON(rp, cm))
}

// getCommit answers GET /commits/{ref}, or its plain SHA for the sha media type.
func (e *Emulator) getCommit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	ref := param(r, "*")
	for suffix, h := range map[string]handlerFunc{"/statuses": e.listStatuses, "/status": e.combinedStatus} {
		if base, ok := strings.CutSuffix(ref, suffix); ok {
			if _, isRef := resolveCommit(rp, ref); !isRef {
				h(w, r.WithContext(context.WithValue(r.Context(), statusRefKey{}, base)), c)
				return
			}
		}
	}
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	h, ok := resolveCommit(rp, ref)
	if !ok {
		writeError(w, errStatus(http.StatusUnprocessableEntity, "No commit found for SHA: "+ref))
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "vnd.github.sha") || strings.Contains(r.Header.Get("Accept"), "vnd.github.v3.sha") {
		w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
		_, _ = w.Write([]byte(h.String())) //nolint:gosec // a resolved commit id in hex, served as vnd.github.sha, not HTML
		return
	}
	out, aerr := e.repoCommitJSON(rp, h, true)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// maxCompareCommits is how many commits GitHub lists in a comparison.
const maxCompareCommits = 250

func (e *Emulator) compare(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	rp.mu.RLock()
	defer rp.mu.RUnlock()
	spec := param(r, "*")
	baseSpec, headSpec, ok := strings.Cut(spec, "...")
	if !ok {
		baseSpec, headSpec, ok = strings.Cut(spec, "..")
	}
	if !ok {
		writeError(w, errNotFound())
		return
	}
	resolve := func(s string) (hash, bool) {
		if _, branch, found := strings.Cut(s, ":"); found {
			s = branch
		}
		return resolveCommit(rp, s)
	}
	base, ok1 := resolve(baseSpec)
	head, ok2 := resolve(headSpec)
	if !ok1 || !ok2 {
		writeError(w, errNotFound())
		return
	}
	mb, found, err := rp.git.MergeBase(base, head)
	if err == nil && !found {
		writeError(w, errNotFound())
		return
	}
	var ahead, behind []hash
	if err == nil {
		ahead, err = rp.git.Exclusive(head, []hash{base}, 0)
	}
	if err == nil {
		behind, err = rp.git.Exclusive(base, []hash{head}, 0)
	}
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	status := "diverged"
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	commits := []map[string]any{}
	for i := len(ahead) - 1; i >= 0 && len(commits) < maxCompareCommits; i-- {
		rc, aerr := e.repoCommitJSON(rp, ahead[i], false)
		if aerr == nil {
			commits = append(commits, rc)
		}
	}
	files, _, _, aerr := e.filesBetween(rp, mb, head, 300)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	baseJ, _ := e.repoCommitJSON(rp, base, false)
	mbJ, _ := e.repoCommitJSON(rp, mb, false)
	html := fmt.Sprintf("%s/%s/compare/%s", e.opts.HTMLURL, rp.fullName(), spec)
	writeJSON(w, http.StatusOK, map[string]any{
		"url":      fmt.Sprintf("%s/repos/%s/compare/%s", e.apiURL(), rp.fullName(), spec),
		"html_url": html, "permalink_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
		"base_commit": baseJ, "merge_base_commit": mbJ, "status": status,
		"ahead_by": len(ahead), "behind_by": len(behind), "total_commits": len(ahead),
		"commits": commits, "files": files,
	})
}
