package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// fragmentKey names the rendered JSON entries of one subtree at one path: the same
// subtree at the same path renders the same way in every tree that contains it, so a new
// root tree only renders the directories that changed.
type fragmentKey struct {
	repo      int64
	tree      hash
	prefix    string
	recursive bool
}

// resolveTree accepts a tree SHA, a commit SHA or a ref name, like GitHub's tree endpoint.
func resolveTree(rp *repo, s string) (hash, bool) {
	if h, ok := parseHash(s); ok {
		t, err := rp.git.ObjectType(h)
		if err == nil && t == plumbing.TreeObject {
			return h, true
		}
	}
	c, ok := resolveCommit(rp, s)
	if !ok {
		return hash{}, false
	}
	cm, err := rp.git.Commit(c)
	if err != nil {
		return hash{}, false
	}
	return cm.Tree, true
}

func (e *Emulator) getTree(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	rp := c.repo
	h, ok := resolveTree(rp, param(r, "sha"))
	if !ok {
		writeError(w, errNotFound())
		return
	}
	rec := r.URL.Query().Get("recursive")
	recursive := rec != "" && rec != "0" && rec != "false"
	pieces, err := e.treeResponse(rp, h, recursive)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writePieces(w, http.StatusOK, pieces)
}

// treeResponse renders a tree listing like GitHub's, from cached per-directory fragments,
// as pieces to write one after the other (the big middle one is shared: do not modify).
func (e *Emulator) treeResponse(rp *repo, h hash, recursive bool) ([][]byte, error) {
	base := e.apiURL() + "/repos/" + rp.fullName() + "/git/"
	key := fragmentKey{rp.id, h, "", recursive}
	body, count, ok := e.fragments.get(key)
	if !ok {
		var err error
		if count, err = e.renderTree(rp, base, h, "", recursive, &body); err != nil {
			return nil, err
		}
	}
	truncated := false
	if count > gitstore.MaxRecursiveEntries {
		body, truncated = truncateEntries(body, gitstore.MaxRecursiveEntries), true
	}
	if len(body) > 0 {
		body = body[1:] // every entry starts with a comma
	}
	head := []byte(`{"sha":"` + h.String() + `","url":"` + base + `trees/` + h.String() + `","tree":[`)
	tail := []byte(`],"truncated":` + strconv.FormatBool(truncated) + "}")
	return [][]byte{head, body, tail}, nil
}

func writePieces(w http.ResponseWriter, status int, pieces [][]byte) {
	n := 0
	for _, p := range pieces {
		n += len(p)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for _, p := range pieces {
		if _, err := w.Write(p); err != nil { //nolint:gosec // application/json built with JSON-escaped strings, not HTML
			return
		}
	}
}

// renderTree appends ",{entry}" for each entry of tree h (and, if recursive, of its
// subtrees right after each directory) and returns how many entries it wrote.
func (e *Emulator) renderTree(rp *repo, base string, h hash, prefix string, recursive bool, buf *[]byte) (int, error) {
	key := fragmentKey{rp.id, h, prefix, recursive}
	if data, n, ok := e.fragments.get(key); ok {
		*buf = append(*buf, data...)
		return n, nil
	}
	t, err := rp.git.Tree(h)
	if err != nil {
		return 0, err
	}
	start := len(*buf)
	count := 0
	for _, en := range t.Entries {
		b := *buf
		b = append(b, `,{"path":`...)
		b = appendJSONString(b, prefix+en.Name)
		b = append(b, `,"mode":"`...)
		b = appendMode(b, uint32(en.Mode))
		typ := en.Type()
		b = append(b, `","type":"`+typ+`","sha":"`+en.Hash.String()+`"`...)
		switch typ {
		case "blob":
			size, err := rp.git.BlobSize(en.Hash)
			if err != nil {
				return 0, err
			}
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, size, 10)
			b = append(b, `,"url":"`+base+"blobs/"+en.Hash.String()+`"`...)
		case "tree":
			b = append(b, `,"url":"`+base+"trees/"+en.Hash.String()+`"`...)
		}
		*buf = append(b, '}')
		count++
		if recursive && en.IsTree() {
			n, err := e.renderTree(rp, base, en.Hash, prefix+en.Name+"/", true, buf)
			if err != nil {
				return 0, err
			}
			count += n
		}
	}
	e.fragments.put(key, append([]byte(nil), (*buf)[start:]...), count)
	return count, nil
}

func appendMode(b []byte, m uint32) []byte {
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + m&7)
		m >>= 3
	}
	return append(b, digits[:]...)
}

// truncateEntries keeps the first n ",{...}" entries of a rendered listing.
func truncateEntries(body []byte, n int) []byte {
	depth, seen := 0, 0
	inString, escaped := false, false
	for i, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				seen++
				if seen == n {
					return body[:i+1]
				}
			}
		}
	}
	return body
}

func appendJSONString(b []byte, s string) []byte {
	simple := utf8.ValidString(s)
	for i := 0; simple && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			simple = false
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	data, _ := json.Marshal(s)
	return append(b, data...)
}

type treeEntryInput struct {
	Path    string          `json:"path"`
	Mode    string          `json:"mode"`
	Type    string          `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

func invalidTree(msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: "Invalid tree info", Errors: []any{msg}}
}

var validModes = map[string]filemode.FileMode{
	"100644": filemode.Regular, "100755": filemode.Executable, "040000": filemode.Dir,
	"160000": filemode.Submodule, "120000": filemode.Symlink,
}

// treeEdit validates one entry of a create-tree request and turns it into an edit.
func (e *Emulator) treeEdit(rp *repo, in treeEntryInput) (gitstore.Edit, *apiError) {
	if in.Path == "" {
		return gitstore.Edit{}, invalidTree("Must supply a valid tree.path")
	}
	mode, ok := validModes[in.Mode]
	if !ok {
		return gitstore.Edit{}, invalidTree("Must supply a valid tree.mode")
	}
	if string(in.SHA) == "null" && in.Content == nil {
		return gitstore.Edit{Path: in.Path, Delete: true}, nil
	}
	if in.Content != nil {
		if mode == filemode.Dir || mode == filemode.Submodule {
			return gitstore.Edit{}, invalidTree("tree.content cannot be used with tree.mode " + in.Mode)
		}
		h, err := rp.git.WriteBlob([]byte(*in.Content))
		if err != nil {
			return gitstore.Edit{}, errStatus(http.StatusInternalServerError, err.Error())
		}
		return gitstore.Edit{Path: in.Path, Mode: mode, Hash: h}, nil
	}
	var sha string
	if len(in.SHA) == 0 || json.Unmarshal(in.SHA, &sha) != nil {
		return gitstore.Edit{}, invalidTree("Must supply tree.sha or tree.content")
	}
	h, ok := parseHash(sha)
	if !ok {
		return gitstore.Edit{}, invalidTree("Must supply a valid tree.sha")
	}
	if mode != filemode.Submodule {
		want := plumbing.BlobObject
		if mode == filemode.Dir {
			want = plumbing.TreeObject
		}
		if t, err := rp.git.ObjectType(h); err != nil || t != want {
			return gitstore.Edit{}, errUnprocessable("GitRPC::BadObjectState")
		}
	}
	return gitstore.Edit{Path: in.Path, Mode: mode, Hash: h}, nil
}

func (e *Emulator) createTree(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var in struct {
		BaseTree string           `json:"base_tree"`
		Tree     []treeEntryInput `json:"tree"`
	}
	if aerr := decodeBody(r, &in); aerr != nil {
		writeError(w, aerr)
		return
	}
	if in.Tree == nil {
		writeError(w, errUnprocessable("Invalid request.\n\n\"tree\" wasn't supplied."))
		return
	}
	rp := c.repo
	var base hash
	if in.BaseTree != "" {
		var ok bool
		if base, ok = baseTree(rp, in.BaseTree); !ok {
			writeError(w, invalidTree("base_tree is not a valid tree oid"))
			return
		}
	}
	edits := make([]gitstore.Edit, 0, len(in.Tree))
	for _, te := range in.Tree {
		ed, aerr := e.treeEdit(rp, te)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		edits = append(edits, ed)
	}
	h, err := rp.git.ApplyEdits(base, edits)
	if err != nil {
		writeError(w, invalidTree(err.Error()))
		return
	}
	pieces, err := e.treeResponse(rp, h, false)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writePieces(w, http.StatusCreated, pieces)
}

// baseTree resolves create-tree's base_tree: a tree SHA, or (as GitHub
// also accepts) a commit SHA standing for its tree.
func baseTree(rp *repo, sha string) (hash, bool) {
	h, ok := parseHash(sha)
	if !ok {
		return hash{}, false
	}
	t, err := rp.git.ObjectType(h)
	switch {
	case err != nil:
		return hash{}, false
	case t == plumbing.TreeObject:
		return h, true
	case t == plumbing.CommitObject:
		c, err := rp.git.Commit(h)
		if err != nil {
			return hash{}, false
		}
		return c.Tree, true
	}
	return hash{}, false
}
