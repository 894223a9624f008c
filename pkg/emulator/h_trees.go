package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

type treeKey struct {
	repo      int64
	tree      hash
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
	data, err := e.treeResponse(rp, h, recursive)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writeRaw(w, http.StatusOK, data)
}

// treeResponse renders a tree listing once per tree and keeps it: trees are immutable.
func (e *Emulator) treeResponse(rp *repo, h hash, recursive bool) ([]byte, error) {
	key := treeKey{rp.id, h, recursive}
	if data, ok := e.treeCache.Get(key); ok {
		return data, nil
	}
	var entries []gitstore.FlatEntry
	if recursive {
		flat, err := rp.git.Flatten(h)
		if err != nil {
			return nil, err
		}
		entries = flat
	} else {
		t, err := rp.git.Tree(h)
		if err != nil {
			return nil, err
		}
		for _, en := range t.Entries {
			fe := gitstore.FlatEntry{Path: en.Name, Mode: en.Mode, Hash: en.Hash, Size: -1}
			if en.Type() == "blob" {
				fe.Size, _ = rp.git.BlobSize(en.Hash)
			}
			entries = append(entries, fe)
		}
	}
	truncated := len(entries) > gitstore.MaxRecursiveEntries
	if truncated {
		entries = entries[:gitstore.MaxRecursiveEntries]
	}
	base := e.apiURL() + "/repos/" + rp.fullName() + "/git/"
	var buf bytes.Buffer
	buf.Grow(len(entries)*200 + 256)
	buf.WriteString(`{"sha":"` + h.String() + `","url":"` + base + `trees/` + h.String() + `","tree":[`)
	for i, en := range entries {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"path":`)
		writeJSONString(&buf, en.Path)
		typ := en.Type()
		fmt.Fprintf(&buf, `,"mode":"%06o","type":"%s","sha":"%s"`, uint32(en.Mode), typ, en.Hash)
		switch typ {
		case "blob":
			buf.WriteString(`,"size":` + strconv.FormatInt(en.Size, 10) + `,"url":"` + base + "blobs/" + en.Hash.String() + `"`)
		case "tree":
			buf.WriteString(`,"url":"` + base + "trees/" + en.Hash.String() + `"`)
		}
		buf.WriteByte('}')
	}
	buf.WriteString(`],"truncated":` + strconv.FormatBool(truncated) + "}")
	data := buf.Bytes()
	e.treeCache.Put(key, data)
	return data, nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	simple := utf8.ValidString(s)
	for i := 0; simple && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			simple = false
		}
	}
	if simple {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	data, _ := json.Marshal(s)
	buf.Write(data)
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
		if base, ok = parseHash(in.BaseTree); ok {
			t, err := rp.git.ObjectType(base)
			ok = err == nil && t == plumbing.TreeObject
		}
		if !ok {
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
	data, err := e.treeResponse(rp, h, false)
	if err != nil {
		writeError(w, errStatus(http.StatusInternalServerError, err.Error()))
		return
	}
	writeRaw(w, http.StatusCreated, data)
}
