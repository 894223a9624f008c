package cli

import (
	"context"
	"crypto/sha1" //nolint:gosec // git object ids are SHA-1 by definition, not a security use
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"

	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// source is where configuration files and trees are read from: a working
// tree, or a commit of a git repository.
type source interface {
	// ReadFile returns a file's content; fs.ErrNotExist when it is missing.
	ReadFile(name string) ([]byte, error)
	// Tree returns the flattened files under the given directories.
	Tree(ctx context.Context, dirs []string) (treesync.Tree, error)
	Close() error
}

// worktree reads a directory; os.Root keeps every read inside it, even
// through symlinks.
type worktree struct {
	root *os.Root
}

func openWorktree(dir string) (*worktree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the repository directory: %w", err)
	}
	return &worktree{root: root}, nil
}

func (w *worktree) Close() error { return w.root.Close() }

func (w *worktree) ReadFile(name string) ([]byte, error) {
	return w.root.ReadFile(name)
}

// Tree hashes the files under dirs as git would store them.
func (w *worktree) Tree(ctx context.Context, dirs []string) (treesync.Tree, error) {
	tree := treesync.Tree{}
	fsys := w.root.FS()
	for _, dir := range dirs {
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					return fs.SkipDir
				}
				return err
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return fs.SkipDir
				}
				return nil
			}
			if _, done := tree[p]; done {
				return nil
			}
			e, err := w.entry(p, d)
			if err != nil {
				return err
			}
			tree[p] = e
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", dir, err)
		}
	}
	return tree, nil
}

func (w *worktree) entry(p string, d fs.DirEntry) (treesync.Entry, error) {
	info, err := d.Info()
	if err != nil {
		return treesync.Entry{}, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := w.root.Readlink(p)
		if err != nil {
			return treesync.Entry{}, err
		}
		return treesync.Entry{Mode: "120000", Type: treesync.TypeBlob, SHA: blobHash([]byte(target))}, nil
	}
	f, err := w.root.Open(p)
	if err != nil {
		return treesync.Entry{}, err
	}
	defer f.Close()
	h := sha1.New() //nolint:gosec // git blob id, must match git's SHA-1
	fmt.Fprintf(h, "blob %d\x00", info.Size())
	if _, err := io.Copy(h, f); err != nil {
		return treesync.Entry{}, err
	}
	mode := "100644"
	if info.Mode()&0o111 != 0 {
		mode = "100755"
	}
	return treesync.Entry{Mode: mode, Type: treesync.TypeBlob, SHA: hex.EncodeToString(h.Sum(nil))}, nil
}

// blobHash is git's object id of a blob.
func blobHash(data []byte) string {
	h := sha1.New() //nolint:gosec // git blob id, must match git's SHA-1
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// cleanDir returns dir without its trailing "/", as fs paths want.
func cleanDir(dir string) string { return path.Clean(dir) }
