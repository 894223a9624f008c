package emulator_test

import (
	"context"
	"maps"
	"net/http"
	"testing"

	"github.com/google/go-github/v52/github"
)

// treeFiles lists the blobs under prefix in tree sha with their blob SHAs.
func (env *contractEnv) treeFiles(t *testing.T, sha, prefix string) map[string]string {
	t.Helper()
	tree, _, err := env.client.Git.GetTree(context.Background(), env.owner, env.repo, sha, true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range tree.Entries {
		if e.GetType() == "blob" && len(e.GetPath()) >= len(prefix) && e.GetPath()[:len(prefix)] == prefix {
			out[e.GetPath()] = e.GetSHA()
		}
	}
	return out
}

// TestContractCreateTreeMergesNestedEntries shows GitHub's create-tree semantics with
// base_tree: an entry of type tree placed on an existing directory is merged into it, so
// files that exist only in the old directory survive unless deleted with sha: null.
func TestContractCreateTreeMergesNestedEntries(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	branch := env.branch(t, "trees")
	env.commit(t, branch, map[string]*string{
		"sync/src/app/a.yaml": str("a-src\n"), "sync/src/app/sub/new.yaml": str("new\n"),
		"sync/dst/app/a.yaml": str("a-dst\n"), "sync/dst/app/only-dst.yaml": str("stale\n"), "sync/dst/app/sub/old.yaml": str("old\n"),
	})
	head := env.headSHA(t, branch)
	hc, _, err := env.client.Git.GetCommit(ctx, env.owner, env.repo, head)
	if err != nil {
		t.Fatal(err)
	}
	base := hc.GetTree().GetSHA()
	src := env.treeFiles(t, base, "sync/src/app/")
	dstBefore := env.treeFiles(t, base, "sync/dst/app/")
	srcTree, _, err := env.client.Git.GetTree(ctx, env.owner, env.repo, base, true)
	if err != nil {
		t.Fatal(err)
	}
	var srcSHA string
	for _, e := range srcTree.Entries {
		if e.GetPath() == "sync/src/app" {
			srcSHA = e.GetSHA()
		}
	}

	t.Run("tree entry over a directory merges", func(t *testing.T) {
		tree, resp, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, base, []*github.TreeEntry{
			{Path: str("sync/dst/app"), Mode: str("040000"), Type: str("tree"), SHA: str(srcSHA)},
		})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatal(err)
		}
		got := env.treeFiles(t, tree.GetSHA(), "sync/dst/app/")
		want := map[string]string{
			"sync/dst/app/a.yaml":        src["sync/src/app/a.yaml"],
			"sync/dst/app/sub/new.yaml":  src["sync/src/app/sub/new.yaml"],
			"sync/dst/app/only-dst.yaml": dstBefore["sync/dst/app/only-dst.yaml"],
			"sync/dst/app/sub/old.yaml":  dstBefore["sync/dst/app/sub/old.yaml"],
		}
		if !maps.Equal(got, want) {
			t.Errorf("merged directory = %v\nwant %v", got, want)
		}
	})

	t.Run("explicit deletions make an exact copy", func(t *testing.T) {
		tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, base, []*github.TreeEntry{
			{Path: str("sync/dst/app"), Mode: str("040000"), Type: str("tree"), SHA: str(srcSHA)},
			{Path: str("sync/dst/app/only-dst.yaml"), Mode: str("100644"), Type: str("blob")},
			{Path: str("sync/dst/app/sub/old.yaml"), Mode: str("100644"), Type: str("blob")},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := env.treeFiles(t, tree.GetSHA(), "sync/dst/app/")
		want := map[string]string{"sync/dst/app/a.yaml": src["sync/src/app/a.yaml"], "sync/dst/app/sub/new.yaml": src["sync/src/app/sub/new.yaml"]}
		if !maps.Equal(got, want) {
			t.Errorf("synced directory = %v\nwant %v", got, want)
		}
		var dstSHA string
		after, _, _ := env.client.Git.GetTree(ctx, env.owner, env.repo, tree.GetSHA(), true)
		for _, e := range after.Entries {
			if e.GetPath() == "sync/dst/app" {
				dstSHA = e.GetSHA()
			}
		}
		if dstSHA != srcSHA {
			t.Errorf("synced directory tree %s differs from source %s", dstSHA, srcSHA)
		}
	})

	t.Run("deleting every file removes the directory", func(t *testing.T) {
		var entries []*github.TreeEntry
		for p := range dstBefore {
			entries = append(entries, &github.TreeEntry{Path: str(p), Mode: str("100644"), Type: str("blob")})
		}
		tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, base, entries)
		if err != nil {
			t.Fatal(err)
		}
		all, _, _ := env.client.Git.GetTree(ctx, env.owner, env.repo, tree.GetSHA(), true)
		for _, e := range all.Entries {
			if e.GetPath() == "sync/dst/app" || e.GetPath() == "sync/dst/app/sub" {
				t.Errorf("empty directory %s remains", e.GetPath())
			}
		}
	})

	t.Run("base_tree may be a commit SHA", func(t *testing.T) {
		// GitHub takes a commit for base_tree and builds on its tree; clients
		// (the original Telefonistka among them) pass the branch head.
		tree, resp, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, head, []*github.TreeEntry{
			{Path: str("sync/from-commit.txt"), Mode: str("100644"), Type: str("blob"), Content: str("c\n")},
		})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("create tree on a commit: %v", err)
		}
		got := env.treeFiles(t, tree.GetSHA(), "sync/")
		if got["sync/from-commit.txt"] != gitBlobSHA("c\n") || got["sync/dst/app/a.yaml"] != dstBefore["sync/dst/app/a.yaml"] {
			t.Errorf("tree built on commit %s = %v", head, got)
		}
	})

	t.Run("inline content and nested paths", func(t *testing.T) {
		tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, base, []*github.TreeEntry{
			{Path: str("sync/brand/new/deep/file.txt"), Mode: str("100644"), Type: str("blob"), Content: str("deep\n")},
			{Path: str("sync/exec.sh"), Mode: str("100755"), Type: str("blob"), Content: str("#!/bin/sh\n")},
		})
		if err != nil {
			t.Fatal(err)
		}
		got := env.treeFiles(t, tree.GetSHA(), "sync/")
		if got["sync/brand/new/deep/file.txt"] != gitBlobSHA("deep\n") || got["sync/dst/app/a.yaml"] != dstBefore["sync/dst/app/a.yaml"] {
			t.Errorf("tree = %v", got)
		}
		all, _, _ := env.client.Git.GetTree(ctx, env.owner, env.repo, tree.GetSHA(), true)
		for _, e := range all.Entries {
			if e.GetPath() == "sync/exec.sh" && e.GetMode() != "100755" {
				t.Errorf("executable mode = %s", e.GetMode())
			}
		}
	})

	t.Run("invalid entries", func(t *testing.T) {
		_, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, base, []*github.TreeEntry{
			{Path: str("x"), Mode: str("100999"), Type: str("blob"), Content: str("x")},
		})
		expectStatus(t, err, http.StatusUnprocessableEntity, "")
		_, _, err = env.client.Git.CreateTree(ctx, env.owner, env.repo, base, []*github.TreeEntry{
			{Path: str("x"), Mode: str("100644"), Type: str("blob"), SHA: str("1234567890123456789012345678901234567890")},
		})
		expectStatus(t, err, http.StatusUnprocessableEntity, "")
	})
}
