package emulator_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v52/github"
)

func TestContractRepositoryAndContents(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()

	t.Run("get repository", func(t *testing.T) {
		r, resp, err := env.client.Repositories.Get(ctx, env.owner, env.repo)
		if err != nil {
			t.Fatal(err)
		}
		if r.GetFullName() != env.owner+"/"+env.repo || r.GetDefaultBranch() == "" || r.GetOwner().GetLogin() != env.owner {
			t.Errorf("repository = %s default %q owner %q", r.GetFullName(), r.GetDefaultBranch(), r.GetOwner().GetLogin())
		}
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource", "X-GitHub-Request-Id"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("response lacks %s", h)
			}
		}
		if resp.Rate.Limit == 0 || resp.Rate.Reset.IsZero() {
			t.Errorf("go-github parsed no rate: %+v", resp.Rate)
		}
		_, _, err = env.client.Repositories.Get(ctx, env.owner, "does-not-exist-"+uniqueName("x"))
		expectStatus(t, err, http.StatusNotFound, "Not Found")
	})

	t.Run("contents of a file and a directory", func(t *testing.T) {
		branch := env.branch(t, "contents")
		env.commit(t, branch, map[string]*string{"ct/dir/a.txt": str("alpha\n"), "ct/dir/sub/b.txt": str("beta\n")})
		f, dir, _, err := env.client.Repositories.GetContents(ctx, env.owner, env.repo, "ct/dir/a.txt", &github.RepositoryContentGetOptions{Ref: branch})
		if err != nil || dir != nil {
			t.Fatalf("file: %v, dir %v", err, dir)
		}
		content, err := f.GetContent()
		if err != nil || content != "alpha\n" || f.GetType() != "file" || f.GetEncoding() != "base64" || f.GetSize() != 6 {
			t.Errorf("file = %q (%v) type %s enc %s size %d", content, err, f.GetType(), f.GetEncoding(), f.GetSize())
		}
		f, dir, _, err = env.client.Repositories.GetContents(ctx, env.owner, env.repo, "ct/dir", &github.RepositoryContentGetOptions{Ref: branch})
		if err != nil || f != nil {
			t.Fatalf("dir: %v, file %v", err, f)
		}
		var got []string
		for _, d := range dir {
			got = append(got, d.GetType()+":"+d.GetPath())
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "dir:ct/dir/sub,file:ct/dir/a.txt" {
			t.Errorf("listing = %v", got)
		}
		_, _, _, err = env.client.Repositories.GetContents(ctx, env.owner, env.repo, "ct/missing.txt", &github.RepositoryContentGetOptions{Ref: branch})
		expectStatus(t, err, http.StatusNotFound, "")
	})

	t.Run("create and update a file", func(t *testing.T) {
		branch := env.branch(t, "files")
		created, resp, err := env.client.Repositories.CreateFile(ctx, env.owner, env.repo, "cf/new.txt", &github.RepositoryContentFileOptions{
			Message: str("add file"), Content: []byte("one\n"), Branch: str(branch)})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %v (%v)", err, resp)
		}
		createdCommit := created.Commit // the commit, not the file (created.Content)
		if env.headSHA(t, branch) != createdCommit.GetSHA() {
			t.Error("branch did not move to the new commit")
		}
		_, _, err = env.client.Repositories.UpdateFile(ctx, env.owner, env.repo, "cf/new.txt", &github.RepositoryContentFileOptions{
			Message: str("no sha"), Content: []byte("two\n"), Branch: str(branch)})
		expectStatus(t, err, http.StatusUnprocessableEntity, "sha")
		_, _, err = env.client.Repositories.UpdateFile(ctx, env.owner, env.repo, "cf/new.txt", &github.RepositoryContentFileOptions{
			Message: str("bad sha"), Content: []byte("two\n"), Branch: str(branch), SHA: str(strings.Repeat("1", 40))})
		expectStatus(t, err, http.StatusConflict, "does not match")
		updated, resp, err := env.client.Repositories.UpdateFile(ctx, env.owner, env.repo, "cf/new.txt", &github.RepositoryContentFileOptions{
			Message: str("update"), Content: []byte("two\n"), Branch: str(branch), SHA: created.Content.SHA})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("update: %v", err)
		}
		updatedCommit := updated.Commit
		if len(updatedCommit.Parents) != 1 || updatedCommit.Parents[0].GetSHA() != createdCommit.GetSHA() {
			t.Errorf("update commit parents = %v", updatedCommit.Parents)
		}
		f, _, _, err := env.client.Repositories.GetContents(ctx, env.owner, env.repo, "cf/new.txt", &github.RepositoryContentGetOptions{Ref: branch})
		if c, _ := f.GetContent(); err != nil || c != "two\n" {
			t.Errorf("content after update = %q, %v", c, err)
		}
	})
}

func TestContractRefs(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	base := env.headSHA(t, env.defaultBranch)
	prefix := "contract/" + uniqueName("refs")
	name := prefix + "/one"
	ref := func(n, sha string) *github.Reference {
		return &github.Reference{Ref: str("refs/heads/" + n), Object: &github.GitObject{SHA: str(sha)}}
	}
	created, resp, err := env.client.Git.CreateRef(ctx, env.owner, env.repo, ref(name, base))
	if err != nil || resp.StatusCode != http.StatusCreated || created.GetObject().GetSHA() != base {
		t.Fatalf("create ref: %v", err)
	}
	t.Cleanup(func() { _, _ = env.client.Git.DeleteRef(ctx, env.owner, env.repo, "heads/"+name) })
	_, _, err = env.client.Git.CreateRef(ctx, env.owner, env.repo, ref(name, base))
	expectStatus(t, err, http.StatusUnprocessableEntity, "Reference already exists")
	_, _, err = env.client.Git.CreateRef(ctx, env.owner, env.repo, ref(prefix+"/bad", strings.Repeat("ab", 20)))
	expectStatus(t, err, http.StatusUnprocessableEntity, "Object does not exist")

	if _, _, err := env.client.Git.CreateRef(ctx, env.owner, env.repo, ref(prefix+"/two", base)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = env.client.Git.DeleteRef(ctx, env.owner, env.repo, "heads/"+prefix+"/two") })
	got, _, err := env.client.Git.GetRef(ctx, env.owner, env.repo, "heads/"+name)
	if err != nil || got.GetRef() != "refs/heads/"+name {
		t.Fatalf("get ref: %v %v", got, err)
	}
	matching, _, err := env.client.Git.ListMatchingRefs(ctx, env.owner, env.repo, &github.ReferenceListOptions{Ref: "heads/" + prefix + "/"})
	if err != nil || len(matching) != 2 {
		t.Fatalf("matching refs = %d, %v", len(matching), err)
	}
	none, _, err := env.client.Git.ListMatchingRefs(ctx, env.owner, env.repo, &github.ReferenceListOptions{Ref: "heads/" + prefix + "-nothing"})
	if err != nil || len(none) != 0 {
		t.Fatalf("matching nothing = %v, %v", none, err)
	}
	_, _, err = env.client.Git.GetRef(ctx, env.owner, env.repo, "heads/"+prefix+"/missing")
	expectStatus(t, err, http.StatusNotFound, "")

	// Fast-forward, then a non-fast-forward update without and with force.
	next := env.commit(t, name, map[string]*string{"refs-test.txt": str("x\n")})
	sibling := env.commit(t, prefix+"/two", map[string]*string{"refs-test.txt": str("y\n")})
	_, _, err = env.client.Git.UpdateRef(ctx, env.owner, env.repo, ref(name, sibling), false)
	expectStatus(t, err, http.StatusUnprocessableEntity, "Update is not a fast forward")
	moved, _, err := env.client.Git.UpdateRef(ctx, env.owner, env.repo, ref(name, sibling), true)
	if err != nil || moved.GetObject().GetSHA() != sibling {
		t.Fatalf("forced update: %v", err)
	}
	_ = next
	if _, err := env.client.Git.DeleteRef(ctx, env.owner, env.repo, "heads/"+prefix+"/two"); err != nil {
		t.Fatal(err)
	}
	_, err = env.client.Git.DeleteRef(ctx, env.owner, env.repo, "heads/"+prefix+"/two")
	expectStatus(t, err, http.StatusUnprocessableEntity, "Reference does not exist")
	_, _, err = env.client.Git.UpdateRef(ctx, env.owner, env.repo, ref(prefix+"/two", base), true)
	expectStatus(t, err, http.StatusUnprocessableEntity, "")
}

func TestContractTreesBlobsCommits(t *testing.T) {
	env := newContractEnv(t)
	ctx := context.Background()
	head := env.headSHA(t, env.defaultBranch)
	hc, _, err := env.client.Git.GetCommit(ctx, env.owner, env.repo, head)
	if err != nil {
		t.Fatal(err)
	}
	baseTree := hc.GetTree().GetSHA()

	t.Run("recursive tree read", func(t *testing.T) {
		tree, _, err := env.client.Git.GetTree(ctx, env.owner, env.repo, baseTree, true)
		if err != nil {
			t.Fatal(err)
		}
		flat, _, _ := env.client.Git.GetTree(ctx, env.owner, env.repo, baseTree, false)
		if len(tree.Entries) <= len(flat.Entries) || tree.GetTruncated() {
			t.Errorf("recursive listing has %d entries, top level %d", len(tree.Entries), len(flat.Entries))
		}
		for _, e := range tree.Entries {
			if e.GetType() == "blob" && (e.Size == nil || e.GetMode() == "") {
				t.Errorf("blob entry %s lacks size or mode", e.GetPath())
			}
			if e.GetType() == "tree" && e.GetMode() != "040000" {
				t.Errorf("tree entry %s has mode %s", e.GetPath(), e.GetMode())
			}
		}
		byCommit, _, err := env.client.Git.GetTree(ctx, env.owner, env.repo, head, false)
		if err != nil || byCommit.GetSHA() != baseTree {
			t.Errorf("tree by commit SHA = %s, %v; want %s", byCommit.GetSHA(), err, baseTree)
		}
		_, _, err = env.client.Git.GetTree(ctx, env.owner, env.repo, strings.Repeat("0", 40), false)
		expectStatus(t, err, http.StatusNotFound, "")
	})

	t.Run("blobs", func(t *testing.T) {
		b, resp, err := env.client.Git.CreateBlob(ctx, env.owner, env.repo, &github.Blob{Content: str("hello blob\n"), Encoding: str("utf-8")})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatal(err)
		}
		// git hash-object of "hello blob\n"
		if want := gitBlobSHA("hello blob\n"); b.GetSHA() != want {
			t.Errorf("blob sha %q, want git's %q", b.GetSHA(), want)
		}
		b64, _, err := env.client.Git.CreateBlob(ctx, env.owner, env.repo, &github.Blob{
			Content: str(base64.StdEncoding.EncodeToString([]byte("hello blob\n"))), Encoding: str("base64")})
		if err != nil || b64.GetSHA() != b.GetSHA() {
			t.Errorf("base64 blob = %s (%v), want %s", b64.GetSHA(), err, b.GetSHA())
		}
		got, _, err := env.client.Git.GetBlob(ctx, env.owner, env.repo, b.GetSHA())
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(got.GetContent(), "\n", ""))
		if string(raw) != "hello blob\n" || got.GetSize() != 11 || got.GetEncoding() != "base64" {
			t.Errorf("blob = %q size %d", raw, got.GetSize())
		}
	})

	t.Run("create commit and read it back", func(t *testing.T) {
		tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, baseTree, []*github.TreeEntry{
			{Path: str("cc/x.txt"), Mode: str("100644"), Type: str("blob"), Content: str("x\n")},
		})
		if err != nil {
			t.Fatal(err)
		}
		c, resp, err := env.client.Git.CreateCommit(ctx, env.owner, env.repo, &github.Commit{
			Message: str("create commit"), Tree: tree, Parents: []*github.Commit{{SHA: str(head)}}})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatal(err)
		}
		got, _, err := env.client.Git.GetCommit(ctx, env.owner, env.repo, c.GetSHA())
		if err != nil {
			t.Fatal(err)
		}
		if got.GetMessage() != "create commit" || got.GetTree().GetSHA() != tree.GetSHA() || len(got.Parents) != 1 || got.Parents[0].GetSHA() != head {
			t.Errorf("commit = %+v", got)
		}
		if got.GetAuthor().GetName() == "" || got.GetAuthor().GetDate().IsZero() {
			t.Errorf("commit author = %+v", got.GetAuthor())
		}
		_, _, err = env.client.Git.CreateCommit(ctx, env.owner, env.repo, &github.Commit{
			Message: str("bad tree"), Tree: &github.Tree{SHA: str(strings.Repeat("ab", 20))}})
		expectStatus(t, err, http.StatusUnprocessableEntity, "")
		_, _, err = env.client.Git.GetCommit(ctx, env.owner, env.repo, strings.Repeat("ab", 20))
		expectStatus(t, err, http.StatusNotFound, "")
	})
}

func gitBlobSHA(content string) string {
	return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content))))
}
