package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

func (e *Emulator) commitURL(r *repo, h hash) string {
	return fmt.Sprintf("%s/repos/%s/commits/%s", e.apiURL(), r.fullName(), h)
}

func sigOut(s gitstore.Signature) map[string]any {
	return map[string]any{"name": s.Name, "email": s.Email, "date": ts(s.When)}
}

func (e *Emulator) verification(r *repo, h hash) map[string]any {
	if r.verified[h] {
		return map[string]any{"verified": true, "reason": "valid", "signature": nil, "payload": nil}
	}
	return map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil}
}

func (e *Emulator) parentsJSON(r *repo, c *gitstore.Commit, gitAPI bool) []map[string]any {
	out := []map[string]any{}
	for _, p := range c.Parents {
		u := e.commitURL(r, p)
		if gitAPI {
			u = fmt.Sprintf("%s/repos/%s/git/commits/%s", e.apiURL(), r.fullName(), p)
		}
		out = append(out, map[string]any{"sha": p.String(), "url": u,
			"html_url": fmt.Sprintf("%s/%s/commit/%s", e.opts.HTMLURL, r.fullName(), p)})
	}
	return out
}

// gitCommitJSON is a commit as the Git Data API shows it.
func (e *Emulator) gitCommitJSON(r *repo, c *gitstore.Commit) map[string]any {
	return map[string]any{
		"sha": c.Hash.String(), "node_id": commitNodeID(c.Hash), "message": c.Message,
		"url":       fmt.Sprintf("%s/repos/%s/git/commits/%s", e.apiURL(), r.fullName(), c.Hash),
		"html_url":  fmt.Sprintf("%s/%s/commit/%s", e.opts.HTMLURL, r.fullName(), c.Hash),
		"author":    sigOut(c.Author),
		"committer": sigOut(c.Committer),
		"tree": map[string]any{"sha": c.Tree.String(),
			"url": fmt.Sprintf("%s/repos/%s/git/trees/%s", e.apiURL(), r.fullName(), c.Tree)},
		"parents":      e.parentsJSON(r, c, true),
		"verification": e.verification(r, c.Hash),
	}
}

// loginOf maps a noreply commit email back to its GitHub user, as GitHub links commits.
func (e *Emulator) loginOf(s gitstore.Signature) *jUser {
	local, ok := strings.CutSuffix(s.Email, "@users.noreply.github.com")
	if !ok {
		return nil
	}
	if _, login, found := strings.Cut(local, "+"); found {
		local = login
	}
	if u, ok := e.users.find(local); ok {
		return e.userJSON(u)
	}
	return nil
}

// repoCommitJSON is a commit as GET /repos/{o}/{r}/commits/{ref} shows it; withFiles adds
// stats and the changed files (diffed against the first parent).
func (e *Emulator) repoCommitJSON(r *repo, h hash, withFiles bool) (map[string]any, *apiError) {
	c, err := r.git.Commit(h)
	if err != nil {
		return nil, errStatus(http.StatusUnprocessableEntity, "No commit found for SHA: "+h.String())
	}
	inner := e.gitCommitJSON(r, c)
	delete(inner, "sha")
	delete(inner, "node_id")
	delete(inner, "html_url")
	delete(inner, "parents")
	inner["comment_count"] = 0
	out := map[string]any{
		"sha": h.String(), "node_id": commitNodeID(h), "commit": inner,
		"url":       e.commitURL(r, h),
		"html_url":  fmt.Sprintf("%s/%s/commit/%s", e.opts.HTMLURL, r.fullName(), h),
		"author":    e.loginOf(c.Author),
		"committer": e.loginOf(c.Committer),
		"parents":   e.parentsJSON(r, c, false),
	}
	if !withFiles {
		return out, nil
	}
	var parent hash
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	files, adds, dels, aerr := e.filesBetween(r, parent, h, 300)
	if aerr != nil {
		return nil, aerr
	}
	out["stats"] = map[string]int{"additions": adds, "deletions": dels, "total": adds + dels}
	out["files"] = files
	return out, nil
}

// filesBetween lists the changed files from commit a (zero for none) to b as GitHub's file
// objects, at most limit of them, with the line totals.
func (e *Emulator) filesBetween(r *repo, a, b hash, limit int) ([]map[string]any, int, int, *apiError) {
	var files []prFile
	var err error
	if a.IsZero() {
		var bc *gitstore.Commit
		if bc, err = r.git.Commit(b); err == nil {
			var changes []gitstore.Change
			if changes, err = r.git.DiffTrees(hash{}, bc.Tree); err == nil {
				files, err = e.describeChanges(r, changes)
			}
		}
	} else {
		files, _, err = e.commitRangeFiles(r, a, b)
	}
	if err != nil {
		return nil, 0, 0, errStatus(http.StatusInternalServerError, err.Error())
	}
	adds, dels := 0, 0
	out := []map[string]any{}
	for _, f := range files {
		adds += f.Additions
		dels += f.Deletions
		if len(out) < limit {
			out = append(out, e.fileJSON(r, b, f))
		}
	}
	return out, adds, dels, nil
}

func (e *Emulator) fileJSON(r *repo, ref hash, f prFile) map[string]any {
	m := map[string]any{
		"sha": f.SHA.String(), "filename": f.Filename, "status": f.Status,
		"additions": f.Additions, "deletions": f.Deletions, "changes": f.Additions + f.Deletions,
		"blob_url":     fmt.Sprintf("%s/%s/blob/%s/%s", e.opts.HTMLURL, r.fullName(), ref, f.Filename),
		"raw_url":      fmt.Sprintf("%s/%s/raw/%s/%s", e.opts.HTMLURL, r.fullName(), ref, f.Filename),
		"contents_url": fmt.Sprintf("%s/repos/%s/contents/%s?ref=%s", e.apiURL(), r.fullName(), f.Filename, ref),
	}
	if f.Patch != nil {
		m["patch"] = *f.Patch
	}
	if f.Previous != "" {
		m["previous_filename"] = f.Previous
	}
	return m
}

func commitNodeID(h hash) string {
	return "C_" + base64.RawURLEncoding.EncodeToString([]byte("emu:commit:"+h.String()))
}
