package githubapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// NotAFileError says a path that should be a file is something else at
// that commit (a directory, a symlink, a submodule). It is permanent:
// reading again will not make it a file.
type NotAFileError struct {
	Repo events.Repo
	Ref  string
	Path string
	Type string // "dir", "symlink", "submodule", ...
}

func (e *NotAFileError) Error() string {
	return fmt.Sprintf("%s of %s at %s is a %s, not a file", e.Path, e.Repo, e.Ref, e.Kind())
}

// Kind names what is at the path in words ("directory", "symlink", ...).
func (e *NotAFileError) Kind() string {
	if e.Type == "dir" {
		return "directory"
	}
	return e.Type
}

// Permanent marks the error as not worth retrying.
func (e *NotAFileError) Permanent() bool { return true }

// TreeTooLargeError says GitHub truncated a recursive tree listing (over
// 100,000 entries or 7 MB) and the caller named no directories to read
// instead. It is permanent: the same commit always lists the same way.
type TreeTooLargeError struct {
	Repo   events.Repo
	Commit string
}

func (e *TreeTooLargeError) Error() string {
	return fmt.Sprintf("the tree of %s at %s has more entries than GitHub lists in one read", e.Repo, e.Commit)
}

// Permanent marks the error as not worth retrying.
func (e *TreeTooLargeError) Permanent() bool { return true }

// File reads path at ref through the contents API; found is false when
// nothing is there. A directory, symlink or submodule at path is a
// *NotAFileError. Files over the contents API's 1 MB limit (answered
// without content) are read as blobs, up to GitHub's 100 MB.
func (g *GitHub) File(ctx context.Context, repo events.Repo, ref, path string) ([]byte, bool, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, false, err
	}
	file, dir, _, err := c.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fail(err, "reading %s of %s at %s", path, repo, ref)
	}
	if file == nil || dir != nil {
		return nil, false, &NotAFileError{Repo: repo, Ref: ref, Path: path, Type: "dir"}
	}
	if t := file.GetType(); t != "" && t != "file" {
		return nil, false, &NotAFileError{Repo: repo, Ref: ref, Path: path, Type: t}
	}
	if file.GetEncoding() == "none" || (file.Content == nil && file.GetSize() > 0) {
		data, err := g.Blob(ctx, repo, file.GetSHA())
		if err != nil {
			return nil, false, fmt.Errorf("reading %s of %s at %s (over the contents API's limit): %w", path, repo, ref, err)
		}
		return data, true, nil
	}
	content, err := file.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decoding %s of %s at %s: %w", path, repo, ref, err)
	}
	return []byte(content), true, nil
}

// Blob reads a blob's raw content.
func (g *GitHub) Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	data, _, err := c.Git.GetBlobRaw(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return nil, fail(err, "reading blob %s of %s", sha, repo)
	}
	return data, nil
}

// Tree is a commit's tree, flattened.
type Tree struct {
	// SHA is the commit's root tree.
	SHA     string
	Entries treesync.Tree
	// Partial is true when GitHub truncated the listing and only the
	// directories asked for were read.
	Partial bool
}

// Tree reads the recursive tree of commit. When GitHub truncates the
// listing, only the directories in dirs are read (each found by walking its
// parents, one non-recursive read per level shared between directories,
// then read recursively on its own) and the tree is Partial; with no dirs a
// truncated listing is a *TreeTooLargeError (permanent: the same commit
// always lists the same way).
func (g *GitHub) Tree(ctx context.Context, repo events.Repo, commit string, dirs []string) (Tree, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Tree{}, err
	}
	r := treeReader{c: c, repo: repo}
	t, err := r.read(ctx, commit, true)
	if err != nil {
		return Tree{}, err
	}
	if !t.GetTruncated() {
		out := make(treesync.Tree, len(t.Entries))
		addEntries(out, "", t.Entries)
		return Tree{SHA: t.GetSHA(), Entries: out}, nil
	}
	if len(dirs) == 0 {
		return Tree{}, &TreeTooLargeError{Repo: repo, Commit: commit}
	}
	out, err := r.partial(ctx, commit, dirs)
	if err != nil {
		return Tree{}, err
	}
	return Tree{SHA: t.GetSHA(), Entries: out, Partial: true}, nil
}

func addEntries(out treesync.Tree, prefix string, entries []*github.TreeEntry) {
	for _, e := range entries {
		out[prefix+e.GetPath()] = treesync.Entry{Mode: e.GetMode(), Type: e.GetType(), SHA: e.GetSHA()}
	}
}

type treeReader struct {
	c    *github.Client
	repo events.Repo
}

func (r treeReader) read(ctx context.Context, sha string, recursive bool) (*github.Tree, error) {
	t, _, err := r.c.Git.GetTree(ctx, r.repo.Owner, r.repo.Name, sha, recursive)
	if err != nil {
		return nil, fail(err, "reading tree %s of %s", sha, r.repo)
	}
	return t, nil
}

// partial reads the directories dirs of commit; a directory that does not
// exist is left out.
func (r treeReader) partial(ctx context.Context, commit string, dirs []string) (treesync.Tree, error) {
	levels := map[string][]*github.TreeEntry{} // directory -> its direct entries
	list := func(dir, sha string) ([]*github.TreeEntry, error) {
		if l, ok := levels[dir]; ok {
			return l, nil
		}
		t, err := r.read(ctx, sha, false)
		if err != nil {
			return nil, err
		}
		levels[dir] = t.Entries
		return t.Entries, nil
	}
	out := treesync.Tree{}
	for _, d := range dirs {
		d = strings.Trim(d, "/")
		sha, found, err := r.find(d, commit, list)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		t, err := r.read(ctx, sha, true)
		if err != nil {
			return nil, err
		}
		if t.GetTruncated() {
			return nil, &TreeTooLargeError{Repo: r.repo, Commit: commit + ":" + d}
		}
		out[d] = treesync.Entry{Mode: "040000", Type: treesync.TypeTree, SHA: sha}
		addEntries(out, d+"/", t.Entries)
	}
	return out, nil
}

// find walks from the root tree of commit to directory d.
func (r treeReader) find(d, commit string, list func(dir, sha string) ([]*github.TreeEntry, error)) (string, bool, error) {
	sha, parent := commit, ""
	for _, seg := range strings.Split(d, "/") {
		entries, err := list(parent, sha)
		if err != nil {
			return "", false, err
		}
		next := seg
		if parent != "" {
			next = parent + "/" + seg
		}
		found := false
		for _, e := range entries {
			if e.GetPath() == seg && e.GetType() == treesync.TypeTree {
				sha, parent, found = e.GetSHA(), next, true
				break
			}
		}
		if !found {
			return "", false, nil
		}
	}
	return sha, true, nil
}

// CreateBlob stores content as a blob and returns its SHA.
func (g *GitHub) CreateBlob(ctx context.Context, repo events.Repo, content []byte) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	b, _, err := c.Git.CreateBlob(ctx, repo.Owner, repo.Name, &github.Blob{
		Content: github.String(base64.StdEncoding.EncodeToString(content)), Encoding: github.String("base64"),
	})
	if err != nil {
		return "", fail(err, "creating a blob of %d bytes in %s", len(content), repo)
	}
	return b.GetSHA(), nil
}

// CreateTree writes changes on top of baseTree (deletions explicit) and
// returns the new tree's SHA.
func (g *GitHub) CreateTree(ctx context.Context, repo events.Repo, baseTree string, changes []treesync.Change) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	entries := make([]*github.TreeEntry, len(changes))
	for i, ch := range changes {
		e := &github.TreeEntry{Path: github.String(ch.Path), Mode: github.String(ch.Mode), Type: github.String(ch.Type)}
		if !ch.Delete {
			e.SHA = github.String(ch.SHA)
		}
		entries[i] = e
	}
	t, _, err := c.Git.CreateTree(ctx, repo.Owner, repo.Name, baseTree, entries)
	if err != nil {
		return "", fail(err, "creating a tree of %d changes in %s", len(changes), repo)
	}
	return t.GetSHA(), nil
}

// Commit is a commit's tree and parents.
type Commit struct {
	SHA     string
	Tree    string
	Parents []string
}

// Commit reads a commit.
func (g *GitHub) Commit(ctx context.Context, repo events.Repo, sha string) (Commit, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return Commit{}, err
	}
	gc, _, err := c.Git.GetCommit(ctx, repo.Owner, repo.Name, sha)
	if err != nil {
		return Commit{}, fail(err, "reading commit %s of %s", sha, repo)
	}
	out := Commit{SHA: gc.GetSHA(), Tree: gc.GetTree().GetSHA()}
	for _, p := range gc.Parents {
		out.Parents = append(out.Parents, p.GetSHA())
	}
	return out, nil
}

// CreateCommit writes a commit of tree on parents, without custom author
// or committer (GitHub signs it as the identity).
func (g *GitHub) CreateCommit(ctx context.Context, repo events.Repo, message, tree string, parents []string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	commit := &github.Commit{Message: github.String(message), Tree: &github.Tree{SHA: github.String(tree)}}
	for _, p := range parents {
		commit.Parents = append(commit.Parents, &github.Commit{SHA: github.String(p)})
	}
	out, _, err := c.Git.CreateCommit(ctx, repo.Owner, repo.Name, commit)
	if err != nil {
		return "", fail(err, "creating a commit in %s", repo)
	}
	return out.GetSHA(), nil
}
