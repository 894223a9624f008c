package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// commitSource reads files and trees at one commit.
type commitSource struct {
	tree *object.Tree
}

func (c *commitSource) Close() error { return nil }

func (c *commitSource) ReadFile(name string) ([]byte, error) {
	f, err := c.tree.File(name)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	content, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return []byte(content), nil
}

func (c *commitSource) Tree(ctx context.Context, dirs []string) (treesync.Tree, error) {
	tree := treesync.Tree{}
	for _, dir := range dirs {
		sub, err := c.tree.Tree(dir)
		if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading tree %s: %w", dir, err)
		}
		walker := object.NewTreeWalker(sub, true, nil)
		for {
			if err := ctx.Err(); err != nil {
				walker.Close()
				return nil, err
			}
			name, entry, err := walker.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				walker.Close()
				return nil, fmt.Errorf("walking tree %s: %w", dir, err)
			}
			if entry.Mode == filemode.Dir {
				continue
			}
			typ := treesync.TypeBlob
			if entry.Mode == filemode.Submodule {
				typ = treesync.TypeCommit
			}
			tree[dir+"/"+name] = treesync.Entry{Mode: fmt.Sprintf("%06o", uint32(entry.Mode)), Type: typ, SHA: entry.Hash.String()}
		}
		walker.Close()
	}
	return tree, nil
}

// openRange resolves BASE..HEAD in the repository at dir and returns the
// files changed between their merge base and HEAD (renames under both
// names, as GitHub lists a PR's files) and a source reading HEAD.
func openRange(ctx context.Context, dir, spec string) ([]string, source, error) {
	base, head, ok := strings.Cut(spec, "..")
	if !ok || base == "" || head == "" || strings.HasPrefix(head, ".") {
		return nil, nil, usageError{fmt.Sprintf("--range must be BASE..HEAD, got %q", spec)}
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the git repository in %s: %w", dir, err)
	}
	baseCommit, err := resolveCommit(repo, base)
	if err != nil {
		return nil, nil, err
	}
	headCommit, err := resolveCommit(repo, head)
	if err != nil {
		return nil, nil, err
	}
	from := baseCommit
	if bases, err := baseCommit.MergeBase(headCommit); err == nil && len(bases) > 0 {
		from = bases[0]
	}
	fromTree, err := from.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the tree of %s: %w", from.Hash, err)
	}
	headTree, err := headCommit.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the tree of %s: %w", headCommit.Hash, err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, fromTree, headTree, object.DefaultDiffTreeOptions)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the changes of %s: %w", spec, err)
	}
	var files []string
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" {
				files = append(files, name)
			}
		}
	}
	return files, &commitSource{tree: headTree}, nil
}

func resolveCommit(repo *git.Repository, rev string) (*object.Commit, error) {
	hash, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", rev, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", hash, err)
	}
	return commit, nil
}
