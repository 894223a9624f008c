package emulator

import (
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/gitstore"
)

// CreateRepo creates owner/name with one commit holding files (path -> content) on the
// default branch "main".
func (e *Emulator) CreateRepo(owner, name string, files map[string]string) error {
	data := make(map[string][]byte, len(files))
	for p, c := range files {
		data[p] = []byte(c)
	}
	return e.createRepo(owner, name, data)
}

// CreateRepoFromDir creates owner/name with one commit holding the files under dir
// (recursively; .git directories are skipped) on the default branch "main".
func (e *Emulator) CreateRepoFromDir(owner, name, dir string) error {
	files, err := readDir(dir)
	if err != nil {
		return err
	}
	return e.createRepo(owner, name, files)
}

func readDir(dir string) (map[string][]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening repository directory %s: %w", dir, err)
	}
	defer func() { _ = root.Close() }() // read-only
	files := map[string][]byte{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := root.ReadFile(p)
		if err != nil {
			return err
		}
		files[p] = data // fs paths are slash-separated and relative to dir
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading repository files from %s: %w", dir, err)
	}
	return files, nil
}

func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/ \\:")
}

func (e *Emulator) createRepo(owner, name string, files map[string][]byte) error {
	if !validName(owner) || !validName(name) {
		return fmt.Errorf("invalid repository name %q", owner+"/"+name)
	}
	key := strings.ToLower(owner + "/" + name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, exists := e.repos[key]; exists {
		return fmt.Errorf("repository %s/%s already exists", owner, name)
	}
	var store *gitstore.Store
	var err error
	if e.persist != nil {
		store, err = gitstore.OpenDir(e.persist.gitDir(owner, name), "main")
	} else {
		store, err = gitstore.NewMemory("main")
	}
	if err != nil {
		return fmt.Errorf("creating repository %s/%s: %w", owner, name, err)
	}
	ownerUser := e.users.getAs(owner, "Organization")
	r := newRepo(e.newID(), ownerUser, name, store)
	r.defaultBranch = "main"
	tree, err := store.BuildTree(files)
	if err != nil {
		return fmt.Errorf("writing initial tree of %s/%s: %w", owner, name, err)
	}
	sig := userSignature(ownerUser)
	c, err := store.WriteCommit(gitstore.Commit{Tree: tree, Author: sig, Committer: sig, Message: "Initial commit"})
	if err != nil {
		return fmt.Errorf("writing initial commit of %s/%s: %w", owner, name, err)
	}
	if err := store.SetRef("refs/heads/main", c); err != nil {
		return err
	}
	r.seen[c], r.verified[c] = true, true
	e.repos[key] = r
	for _, app := range e.auth.appOrder {
		e.auth.installationFor(app, ownerUser)
	}
	e.changed(r)
	return nil
}

func newRepo(id int64, owner *user, name string, store *gitstore.Store) *repo {
	t := now()
	return &repo{
		id: id, owner: owner, name: name, git: store, createdAt: t, pushedAt: t, nextNumber: 1,
		issues: map[int]*issue{}, comments: map[int64]*comment{}, labels: map[string]*label{},
		statuses: map[hash][]*status{}, verified: map[hash]bool{}, seen: map[hash]bool{},
		files: gitstore.NewLRU[[2]hash, []prFile](256),
	}
}
