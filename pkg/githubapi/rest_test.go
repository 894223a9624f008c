package githubapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

const emulatorToken = "adapter-token"

var testRepo = events.Repo{Owner: "acme", Name: "gitops"}

// adapterOn returns the adapter on an emulator holding files in acme/gitops.
func adapterOn(t *testing.T, files map[string]string) (*GitHub, *emulator.Emulator) {
	t.Helper()
	em, err := emulator.New(emulator.Options{Tokens: map[string]string{emulatorToken: "telefonistka-bot", "alice-token": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	if err := em.CreateRepo(testRepo.Owner, testRepo.Name, files); err != nil {
		t.Fatal(err)
	}
	f, err := NewFactory(Config{OAuthToken: emulatorToken, URL: em.URL(), ApproverOAuthToken: "alice-token"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return NewGitHub(f, nil), em
}

// The five adapters disagreed on a directory where a file was expected
// (not found, a transient error retried until dead-lettered, or permanent).
// It is one permanent error that names the path.
func TestFileWhereADirectoryIs(t *testing.T) {
	gh, _ := adapterOn(t, map[string]string{"telefonistka.yaml/inner.yaml": "x: 1\n", "README.md": "r\n"})
	_, found, err := gh.File(context.Background(), testRepo, "main", "telefonistka.yaml")
	var naf *NotAFileError
	if !errors.As(err, &naf) || naf.Type != "dir" || found {
		t.Fatalf("found %v, err %v; want a *NotAFileError for a dir", found, err)
	}
	if !isPermanent(err) || !strings.Contains(err.Error(), "telefonistka.yaml of acme/gitops at main is a directory, not a file") {
		t.Errorf("error %q: want permanent, naming the path", err)
	}
	// A missing file is no error.
	if data, found, err := gh.File(context.Background(), testRepo, "main", "nothing.yaml"); err != nil || found || data != nil {
		t.Errorf("missing file: %q %v %v", data, found, err)
	}
}

// Files over the contents API's 1 MB come without content: some adapters
// failed to decode them (retried, then dead-lettered). They are read as blobs.
func TestFileOverOneMegabyte(t *testing.T) {
	big := strings.Repeat("# padding line of a large values file\n", 40_000) // ~1.5 MB
	gh, em := adapterOn(t, map[string]string{"big.yaml": big, "small.yaml": "a: 1\n"})
	for path, want := range map[string]string{"big.yaml": big, "small.yaml": "a: 1\n"} {
		data, found, err := gh.File(context.Background(), testRepo, "main", path)
		if err != nil || !found || string(data) != want {
			t.Fatalf("%s: found %v, err %v, %d bytes, want %d", path, found, err, len(data), len(want))
		}
	}
	if n := em.Count("GET /repos/{owner}/{repo}/git/blobs/{sha}"); n != 1 {
		t.Errorf("%d blob reads, want 1 (only for the large file)", n)
	}
}

// treeServer answers tree reads of a commit whose recursive listing GitHub
// truncates: root holds apps/ and docs/, apps/ holds web/ and api/.
type treeServer struct {
	mu    sync.Mutex
	calls []string
}

func (s *treeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.URL.Path+"?"+r.URL.RawQuery)
	s.mu.Unlock()
	recursive := r.URL.Query().Get("recursive") != ""
	tree := func(sha string, truncated bool, entries ...map[string]any) {
		writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "truncated": truncated, "tree": entries})
	}
	entry := func(path, typ, sha string) map[string]any {
		mode := "100644"
		if typ == "tree" {
			mode = "040000"
		}
		return map[string]any{"path": path, "type": typ, "sha": sha, "mode": mode}
	}
	switch sha := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]; {
	case sha == "c0ffee" && recursive:
		tree("root", true, entry("apps", "tree", "t-apps"))
	case sha == "c0ffee":
		tree("root", false, entry("apps", "tree", "t-apps"), entry("docs", "tree", "t-docs"))
	case sha == "t-apps" && !recursive:
		tree("t-apps", false, entry("web", "tree", "t-web"), entry("api", "tree", "t-api"))
	case sha == "t-web" && recursive:
		tree("t-web", false, entry("values.yaml", "blob", "b1"), entry("k8s", "tree", "t-k8s"), entry("k8s/deploy.yaml", "blob", "b2"))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// A truncated tree was retried ten times by some adapters (a transient
// error); one read a partial tree. A caller naming the directories it needs
// gets them; one that names none gets a permanent error at once.
func TestTruncatedTree(t *testing.T) {
	ts := &treeServer{}
	srv := httptest.NewServer(http.StripPrefix("/api/v3/repos/acme/gitops/git/trees", ts))
	t.Cleanup(srv.Close)
	f, err := NewFactory(Config{OAuthToken: "t", URL: srv.URL + "/api/v3/"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gh := NewGitHub(f, nil)
	ctx := context.Background()

	_, err = gh.Tree(ctx, testRepo, "c0ffee", nil)
	var tooLarge *TreeTooLargeError
	if !errors.As(err, &tooLarge) || !isPermanent(err) {
		t.Fatalf("err = %v, want a permanent *TreeTooLargeError", err)
	}

	ts.calls = nil
	tree, err := gh.Tree(ctx, testRepo, "c0ffee", []string{"apps/web/", "apps/gone", "missing/dir"})
	if err != nil {
		t.Fatal(err)
	}
	want := treesync.Tree{
		"apps/web":                 {Mode: "040000", Type: "tree", SHA: "t-web"},
		"apps/web/values.yaml":     {Mode: "100644", Type: "blob", SHA: "b1"},
		"apps/web/k8s":             {Mode: "040000", Type: "tree", SHA: "t-k8s"},
		"apps/web/k8s/deploy.yaml": {Mode: "100644", Type: "blob", SHA: "b2"},
	}
	if !tree.Partial || tree.SHA != "root" || len(tree.Entries) != len(want) {
		t.Fatalf("tree %+v, want partial with %v", tree, want)
	}
	for p, e := range want {
		if tree.Entries[p] != e {
			t.Errorf("%s = %+v, want %+v", p, tree.Entries[p], e)
		}
	}
	// One recursive read, the root and apps/ once each (shared between the
	// directories), then apps/web recursively.
	wantCalls := []string{"/c0ffee?recursive=1", "/c0ffee?", "/t-apps?", "/t-web?recursive=1"}
	if strings.Join(ts.calls, " ") != strings.Join(wantCalls, " ") {
		t.Errorf("calls %v, want %v", ts.calls, wantCalls)
	}
}

func TestBranchesAndPulls(t *testing.T) {
	gh, em := adapterOn(t, map[string]string{"a.txt": "a\n"})
	ctx := context.Background()
	head, found, err := gh.BranchHead(ctx, testRepo, "main")
	if err != nil || !found {
		t.Fatalf("main: %v %v", found, err)
	}
	if _, found, err := gh.BranchHead(ctx, testRepo, "nope"); found || err != nil {
		t.Fatalf("missing branch: found %v, err %v", found, err)
	}
	repo, err := gh.Repository(ctx, testRepo)
	if err != nil || repo.DefaultBranch != "main" {
		t.Fatalf("repository %+v, %v", repo, err)
	}
	commit, err := gh.Commit(ctx, testRepo, head)
	if err != nil || commit.Tree == "" {
		t.Fatalf("commit %+v, %v", commit, err)
	}

	blob, err := gh.CreateBlob(ctx, testRepo, []byte("b\n"))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := gh.CreateTree(ctx, testRepo, commit.Tree, []treesync.Change{
		{Path: "b.txt", Mode: "100644", Type: "blob", SHA: blob},
		{Path: "a.txt", Mode: "100644", Type: "blob", Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	next, err := gh.CreateCommit(ctx, testRepo, "b instead of a", tree, []string{head})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.CreateBranch(ctx, testRepo, "promo", next); err != nil {
		t.Fatal(err)
	}
	if err := gh.CreateBranch(ctx, testRepo, "promo", next); !errors.Is(err, ErrBranchExists) {
		t.Fatalf("second create: %v, want ErrBranchExists", err)
	}
	if err := gh.ForceBranch(ctx, testRepo, "fresh", next); err != nil {
		t.Fatalf("forcing a branch that does not exist creates it: %v", err)
	}
	if got, err := em.ReadFile("acme/gitops", "fresh", "b.txt"); err != nil || got != "b\n" {
		t.Fatalf("b.txt on fresh: %q %v", got, err)
	}

	pr, err := gh.CreatePull(ctx, testRepo, "Promote", "promo", "main", "body")
	if err != nil || pr.Number == 0 || pr.HeadSHA != next || pr.State != "open" {
		t.Fatalf("pull %+v, %v", pr, err)
	}
	if _, err := gh.CreatePull(ctx, testRepo, "Promote", "promo", "main", "body"); !errors.Is(err, ErrPullExists) {
		t.Fatalf("second pull: %v, want ErrPullExists", err)
	}
	if err := gh.AddLabels(ctx, testRepo, pr.Number, []string{"promotion"}); err != nil {
		t.Fatal(err)
	}
	if err := gh.AddAssignees(ctx, testRepo, pr.Number, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	pulls, err := gh.BranchPulls(ctx, testRepo, "promo", "open")
	if err != nil || len(pulls) != 1 || pulls[0].Number != pr.Number || strings.Join(pulls[0].Labels, ",") != "promotion" ||
		strings.Join(pulls[0].Assignees, ",") != "alice" {
		t.Fatalf("branch pulls %+v, %v", pulls, err)
	}
	files, err := gh.PullFiles(ctx, testRepo, pr.Number)
	if err != nil || len(files) != 2 {
		t.Fatalf("files %+v, %v", files, err)
	}
	if err := gh.Approve(ctx, testRepo, pr.Number, pr.HeadSHA); err != nil {
		t.Fatal(err)
	}

	// A merge refused with "Base branch was modified" is ErrBaseModified,
	// and MergeRetry merges on the next try.
	em.FailNextMerge()
	_, err = gh.Merge(ctx, testRepo, pr.Number, pr.HeadSHA, "Auto-merge", "")
	if !errors.Is(err, ErrBaseModified) || isPermanent(err) {
		t.Fatalf("merge after a base change: %v, want ErrBaseModified, not permanent", err)
	}
	em.FailNextMerge()
	retry := MergeRetry{Sleep: func(context.Context, time.Duration) error { return nil }}
	sha, attempts, err := retry.Do(ctx, func(ctx context.Context) (string, error) {
		return gh.Merge(ctx, testRepo, pr.Number, pr.HeadSHA, "Auto-merge", "")
	})
	if err != nil || sha == "" || attempts != 2 {
		t.Fatalf("merge with retry: %q after %d attempts, %v", sha, attempts, err)
	}
	merged, err := gh.Pull(ctx, testRepo, pr.Number)
	if err != nil || !merged.Merged {
		t.Fatalf("pull after merge %+v, %v", merged, err)
	}

	c, err := gh.Comment(ctx, testRepo, pr.Number, "hello")
	if err != nil || c.NodeID == "" {
		t.Fatalf("comment %+v, %v", c, err)
	}
	if all, err := gh.Comments(ctx, testRepo, pr.Number); err != nil || len(all) != 1 || all[0].ID != c.ID ||
		all[0].Body != WithMarker("hello") || all[0].Author != "telefonistka-bot" {
		t.Fatalf("comments %+v, %v", all, err)
	}
	if err := gh.SetStatus(ctx, testRepo, pr.Number, next, StateSuccess, ""); err != nil {
		t.Fatal(err)
	}
	if blobData, err := gh.Blob(ctx, testRepo, blob); err != nil || !bytes.Equal(blobData, []byte("b\n")) {
		t.Fatalf("blob %q, %v", blobData, err)
	}
	if st, err := gh.Compare(ctx, testRepo, head, next); err != nil || st != "ahead" {
		t.Fatalf("compare %q, %v", st, err)
	}
}

func TestStatusesAndPermissions(t *testing.T) {
	gh, em := adapterOn(t, map[string]string{"a.txt": "a\n"})
	ctx := context.Background()
	head, _, err := gh.BranchHead(ctx, testRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := gh.LatestStatus(ctx, testRepo, head, "ci"); err != nil || found {
		t.Fatalf("no status yet: found %v, %v", found, err)
	}
	for _, st := range []CommitStatus{
		{Context: "ci", State: StatePending, Description: "running", TargetURL: "https://ci.example.com/1"},
		{Context: "ci", State: StateFailure, Description: "red", TargetURL: "https://ci.example.com/1"},
	} {
		if err := gh.SetStatusAs(ctx, testRepo, 1, head, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := gh.SetStatus(ctx, testRepo, 1, head, StateSuccess, ""); err != nil {
		t.Fatal(err)
	}
	all, err := gh.Statuses(ctx, testRepo, head)
	if err != nil || len(all) != 3 || all[0].Context != StatusContext || all[1].State != StateFailure || all[1].TargetURL != "https://ci.example.com/1" {
		t.Fatalf("statuses %+v, %v", all, err)
	}
	latest, found, err := gh.LatestStatus(ctx, testRepo, head, "ci")
	if err != nil || !found || latest.State != StateFailure || latest.Description != "red" {
		t.Fatalf("latest ci status %+v %v %v", latest, found, err)
	}
	if err := em.SetPermission("acme/gitops", "alice", "write"); err != nil {
		t.Fatal(err)
	}
	if p, err := gh.Permission(ctx, testRepo, "alice"); err != nil || p != "write" {
		t.Fatalf("alice: %q %v", p, err)
	}
	if p, err := gh.Permission(ctx, testRepo, "nobody-known"); err != nil || p != "none" {
		t.Fatalf("unknown user: %q %v", p, err)
	}
}

func TestPullFactsUpdateIssueAndRemoveLabel(t *testing.T) {
	gh, em := adapterOn(t, map[string]string{"a.txt": "a\n"})
	ctx := context.Background()
	if _, err := em.Push("acme/gitops", "change", "alice", "change", map[string]*string{"a.txt": emulator.Content("b\n")}); err != nil {
		t.Fatal(err)
	}
	n, err := em.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "change", Head: "change", Body: "body"})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.UpdateIssue(ctx, testRepo, n, IssueUpdate{Labels: []string{"promotion", "gitops", "noop"}, Assignees: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	// Removing a label twice: the second (a label the PR no longer has) is
	// no error.
	for range 2 {
		if err := gh.RemoveLabel(ctx, testRepo, n, "noop"); err != nil {
			t.Fatal(err)
		}
	}
	merge, err := em.MergePullRequest("acme/gitops", n, "alice")
	if err != nil {
		t.Fatal(err)
	}
	em.ResetCounters()
	f, err := gh.PullFacts(ctx, testRepo, n)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Pull
	if !p.Merged || p.State != "closed" || p.MergeCommit != merge || f.DefaultHead != merge || p.DefaultBranch != "main" ||
		p.BaseRef != "main" || p.HeadRef != "change" || p.Author != "alice" || p.Body != "body" || p.ChangedFiles != 1 ||
		strings.Join(p.Labels, ",") != "gitops,promotion" {
		t.Fatalf("facts %+v", f)
	}
	if c := em.Counters(); len(c) != 2 || c["POST /graphql"] != 1 {
		t.Errorf("calls %v, want one GraphQL query", c)
	}
}
