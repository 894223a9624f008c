package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

type sigInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (s *sigInput) signature() (*gitstore.Signature, *apiError) {
	if s == nil {
		return nil, nil
	}
	if s.Name == "" || s.Email == "" {
		return nil, errValidation("Commit", "author", "invalid", "name and email are required")
	}
	when := now()
	if s.Date != "" {
		t, err := time.Parse(time.RFC3339, s.Date)
		if err != nil {
			return nil, errValidation("Commit", "date", "invalid", "")
		}
		when = t
	}
	return &gitstore.Signature{Name: s.Name, Email: s.Email, When: when}, nil
}

// commitOnBranch commits edits on top of branch and moves it. Without an author the
// commit is made on actor's behalf and is verified, as GitHub signs such commits. The
// caller holds r.mu.
func (e *Emulator) commitOnBranch(r *repo, actor *user, branch string, edits []gitstore.Edit, message string, author, committer *gitstore.Signature) (*gitstore.Commit, *apiError) {
	head, ok := r.git.Ref("refs/heads/" + branch)
	if !ok {
		return nil, errStatus(http.StatusNotFound, "Branch "+branch+" not found")
	}
	hc, err := r.git.Commit(head)
	if err != nil {
		return nil, errStatus(http.StatusInternalServerError, err.Error())
	}
	tree, err := r.git.ApplyEdits(hc.Tree, edits)
	if err != nil {
		return nil, errValidation("Commit", "path", "invalid", err.Error())
	}
	verified := author == nil && committer == nil
	if author == nil {
		s := userSignature(actor)
		author = &s
	}
	if committer == nil {
		committer = author
		if verified {
			s := webFlow()
			committer = &s
		}
	}
	h, aerr := e.writeCommit(r, gitstore.Commit{Tree: tree, Parents: []hash{head}, Author: *author, Committer: *committer, Message: message}, verified)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.updateRef(r, actor, "refs/heads/"+branch, h); err != nil {
		return nil, errStatus(http.StatusInternalServerError, err.Error())
	}
	c, err := r.git.Commit(h)
	if err != nil {
		return nil, errStatus(http.StatusInternalServerError, err.Error())
	}
	return c, nil
}

type contentsInput struct {
	Message   string    `json:"message"`
	Content   *string   `json:"content"`
	SHA       string    `json:"sha"`
	Branch    string    `json:"branch"`
	Author    *sigInput `json:"author"`
	Committer *sigInput `json:"committer"`
}

// checkContentsSHA applies GitHub's optimistic locking on an existing file.
func checkContentsSHA(p string, existing gitstore.Entry, exists bool, given string) *apiError {
	if !exists {
		return nil
	}
	if given == "" {
		return errUnprocessable(`Invalid request.` + "\n\n" + `"sha" wasn't supplied.`)
	}
	if given != existing.Hash.String() {
		return errStatus(http.StatusConflict, fmt.Sprintf("%s does not match %s", p, given))
	}
	return nil
}

func (e *Emulator) contentsTarget(c *reqCtx, in contentsInput, p string) (string, gitstore.Entry, bool, *apiError) {
	branch := in.Branch
	if branch == "" {
		branch = c.repo.defaultBranch
	}
	head, ok := c.repo.git.Ref("refs/heads/" + branch)
	if !ok {
		return "", gitstore.Entry{}, false, errStatus(http.StatusNotFound, "Branch "+branch+" not found")
	}
	hc, err := c.repo.git.Commit(head)
	if err != nil {
		return "", gitstore.Entry{}, false, errStatus(http.StatusInternalServerError, err.Error())
	}
	en, exists, err := c.repo.git.Lookup(hc.Tree, p)
	if err != nil {
		return "", gitstore.Entry{}, false, errStatus(http.StatusInternalServerError, err.Error())
	}
	return branch, en, exists && !en.IsTree(), nil
}

func (e *Emulator) putContents(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in contentsInput
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	p := strings.Trim(param(r, "*"), "/")
	if in.Message == "" {
		writeError(w, errUnprocessable("Invalid request.\n\n\"message\" wasn't supplied."))
		return
	}
	if in.Content == nil {
		writeError(w, errUnprocessable("Invalid request.\n\n\"content\" wasn't supplied."))
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(*in.Content, "\n", ""))
	if err != nil {
		writeError(w, errUnprocessable("content is not valid Base64"))
		return
	}
	author, aerr := in.Author.signature()
	if aerr == nil {
		var committer *gitstore.Signature
		if committer, aerr = in.Committer.signature(); aerr == nil {
			e.writeContents(w, c, in, p, data, author, committer)
			return
		}
	}
	writeError(w, aerr)
}

func (e *Emulator) writeContents(w http.ResponseWriter, c *reqCtx, in contentsInput, p string, data []byte, author, committer *gitstore.Signature) {
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	branch, existing, exists, aerr := e.contentsTarget(c, in, p)
	if aerr == nil {
		aerr = checkContentsSHA(p, existing, exists, in.SHA)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	blob, err := rp.git.WriteBlob(data)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	mode := filemode.Regular
	if exists {
		mode = existing.Mode
	}
	cm, aerr := e.commitOnBranch(rp, c.id.user, branch, []gitstore.Edit{{Path: p, Mode: mode, Hash: blob}}, in.Message, author, committer)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	content := e.contentEntry(rp, p, gitstore.Entry{Mode: mode, Hash: blob}, branch)
	writeJSON(w, status, map[string]any{"content": content, "commit": e.gitCommitJSON(rp, cm)})
}

func (e *Emulator) deleteContents(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in contentsInput
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	p := strings.Trim(param(r, "*"), "/")
	rp := c.repo
	rp.mu.Lock()
	defer rp.mu.Unlock()
	branch, existing, exists, aerr := e.contentsTarget(c, in, p)
	if aerr == nil && !exists {
		aerr = errNotFound()
	}
	if aerr == nil {
		aerr = checkContentsSHA(p, existing, exists, in.SHA)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	cm, aerr := e.commitOnBranch(rp, c.id.user, branch, []gitstore.Edit{{Path: p, Delete: true}}, in.Message, nil, nil)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"content": nil, "commit": e.gitCommitJSON(rp, cm)})
}
