package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// ChangeRequest is a developer's change: the body of
// POST /_emulator/repos/{owner}/{repo}/pulls, which pushes it to a branch,
// opens a PR and (with Merge) merges it, sending the webhooks GitHub sends.
type ChangeRequest struct {
	// Author is who pushes, opens and merges (default "octocat").
	Author string `json:"author"`
	// Branch is the PR's branch (default change-<random>), created from the
	// default branch when it does not exist.
	Branch string `json:"branch"`
	// Title defaults to "Change <paths>".
	Title string `json:"title"`
	Body  string `json:"body"`
	// Files sets each path to its content; Delete removes paths.
	Files  map[string]string `json:"files"`
	Delete []string          `json:"delete"`
	Labels []string          `json:"labels"`
	Merge  bool              `json:"merge"`
}

// ChangeResult is what a change request did.
type ChangeResult struct {
	Number         int    `json:"number"`
	HTMLURL        string `json:"html_url"`
	Merged         bool   `json:"merged"`
	MergeCommitSHA string `json:"merge_commit_sha,omitempty"`
}

// OpenChange pushes a developer's change to a branch of repoName, opens a
// PR for it and, with Merge, merges it: the three steps of a developer,
// each sending its webhooks.
func (e *Emulator) OpenChange(repoName string, c ChangeRequest) (ChangeResult, error) {
	if len(c.Files) == 0 && len(c.Delete) == 0 {
		return ChangeResult{}, errors.New("a change needs files or deletions")
	}
	if c.Author == "" {
		c.Author = e.opts.DefaultLogin
	}
	paths := make([]string, 0, len(c.Files)+len(c.Delete))
	changes := map[string]*string{}
	for p, content := range c.Files {
		changes[p] = Content(content)
		paths = append(paths, p)
	}
	for _, p := range c.Delete {
		changes[p] = nil
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if c.Branch == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Branch = "change-" + hex.EncodeToString(b[:])
	}
	if c.Title == "" {
		c.Title = "Change " + strings.Join(paths, ", ")
	}
	if _, err := e.Push(repoName, c.Branch, c.Author, c.Title, changes); err != nil {
		return ChangeResult{}, fmt.Errorf("pushing to %s: %w", c.Branch, err)
	}
	n, err := e.OpenPullRequest(repoName, PullRequestSpec{Author: c.Author, Title: c.Title, Body: c.Body, Head: c.Branch, Labels: c.Labels})
	if err != nil {
		return ChangeResult{}, fmt.Errorf("opening the PR: %w", err)
	}
	res := ChangeResult{Number: n, HTMLURL: fmt.Sprintf("%s/%s/pull/%d", e.opts.HTMLURL, repoName, n)}
	if c.Merge {
		sha, err := e.MergePullRequest(repoName, n, c.Author)
		if err != nil {
			return res, fmt.Errorf("merging #%d: %w", n, err)
		}
		res.Merged, res.MergeCommitSHA = true, sha
	}
	return res, nil
}

func (e *Emulator) ctlOpenChange(w http.ResponseWriter, r *http.Request) {
	var in ChangeRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, err)
		return
	}
	res, err := e.OpenChange(chi.URLParam(r, "owner")+"/"+chi.URLParam(r, "repo"), in)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (e *Emulator) ctlMergePull(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Author string `json:"author"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			badRequest(w, err)
			return
		}
	}
	if in.Author == "" {
		in.Author = e.opts.DefaultLogin
	}
	n, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil {
		writeError(w, errNotFound())
		return
	}
	sha, err := e.MergePullRequest(chi.URLParam(r, "owner")+"/"+chi.URLParam(r, "repo"), n, in.Author)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"merged": true, "sha": sha})
}

// writeControlError answers a failed control with GitHub's status when the
// emulator gave one, 404 for something missing, 400 otherwise.
func writeControlError(w http.ResponseWriter, err error) {
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		writeJSON(w, aerr.Status, map[string]string{"message": err.Error()})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
	default:
		badRequest(w, err)
	}
}
