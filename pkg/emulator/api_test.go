package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

func TestGoAPIActsAsPeople(t *testing.T) {
	e, bot := newRepoEmulator(t, emulator.Options{})
	const repo = "acme/gitops"
	ctx := context.Background()
	sha, err := e.Push(repo, "alice/change", "alice", "bump", map[string]*string{
		"env/dev/app/deployment.yaml": emulator.Content("replicas: 9\n"), "env/dev/app/service.yaml": nil})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.OpenPullRequest(repo, emulator.PullRequestSpec{Author: "alice", Title: "Bump", Body: "why", Head: "alice/change",
		Labels: []string{"promotion", "show-plan"}, Assignees: []string{"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := bot.PullRequests.Get(ctx, "acme", "gitops", n)
	if err != nil || pr.GetUser().GetLogin() != "alice" || pr.GetHead().GetSHA() != sha || len(pr.Labels) != 2 {
		t.Fatalf("PR seen by the bot = %v labels %d, %v", pr.GetUser().GetLogin(), len(pr.Labels), err)
	}
	// The bot reviews; alice may not approve her own PR.
	if err := e.Review(repo, n, "alice", "APPROVE", ""); err == nil {
		t.Error("alice approved her own PR")
	}
	if _, _, err := bot.PullRequests.CreateReview(ctx, "acme", "gitops", n, &github.PullRequestReviewRequest{Event: str("APPROVE")}); err != nil {
		t.Fatal(err)
	}
	c1, _ := e.Comment(repo, n, "alice", "/retrigger")
	bc, _, err := bot.Issues.CreateComment(ctx, "acme", "gitops", n, &github.IssueComment{Body: str("<!-- marker --> plan")})
	if err != nil {
		t.Fatal(err)
	}
	gql := githubv4.NewEnterpriseClient(e.GraphQLURL(), &http.Client{Transport: tokenTransport{botToken}})
	var m struct {
		MinimizeComment struct {
			MinimizedComment struct{ IsMinimized bool }
		} `graphql:"minimizeComment(input: $input)"`
	}
	if err := gql.Mutate(ctx, &m, githubv4.MinimizeCommentInput{SubjectID: bc.GetNodeID(), Classifier: githubv4.ReportedContentClassifiersOutdated}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bot.Repositories.CreateStatus(ctx, "acme", "gitops", sha, &github.RepoStatus{State: str("pending"), Context: str("telefonistka")}); err != nil {
		t.Fatal(err)
	}

	got, err := e.GetPullRequest(repo, n)
	if err != nil {
		t.Fatal(err)
	}
	if got.Author != "alice" || got.Body != "why" || !slices.Equal(got.Labels, []string{"promotion", "show-plan"}) ||
		!slices.Equal(got.Assignees, []string{"bob"}) || len(got.Reviews) != 1 || got.Reviews[0].Author != "telefonistka-bot" ||
		got.Reviews[0].State != "APPROVED" || got.Comments != 2 {
		t.Errorf("pull request = %+v", got)
	}
	comments, _ := e.Comments(repo, n)
	if len(comments) != 2 || comments[0].ID != c1 || comments[0].Minimized || !comments[1].Minimized || comments[1].MinimizedReason != "outdated" ||
		comments[1].NodeID != bc.GetNodeID() {
		t.Errorf("comments = %+v", comments)
	}
	if st, _ := e.Statuses(repo, sha); len(st) != 1 || st[0].State != "pending" || st[0].Creator != "telefonistka-bot" {
		t.Errorf("statuses = %+v", st)
	}
	files, err := e.ListFiles(repo, "alice/change", "env/dev")
	if err != nil || !maps.Equal(files, map[string]string{"env/dev/app/deployment.yaml": "replicas: 9\n", "env/dev/app/config/settings.yaml": "debug: true\n"}) {
		t.Errorf("files under env/dev = %v, %v", files, err)
	}
	if _, err := e.ReadFile(repo, "main", "env/dev/app/missing"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("missing file error = %v", err)
	}
	if err := e.EditComment(repo, c1, "alice", "/retrigger please"); err != nil {
		t.Fatal(err)
	}

	merged, err := e.MergePullRequest(repo, n, "alice", emulator.MergeOptions{Method: "squash"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.GetCommit(repo, "main")
	if err != nil || c.SHA != merged || len(c.Parents) != 1 || !c.Verified || c.Message != fmt.Sprintf("Bump (#%d)\n\n* bump", n) {
		t.Errorf("squash commit = %+v, %v", c, err)
	}
	if content, _ := e.ReadFile(repo, "main", "env/dev/app/deployment.yaml"); content != "replicas: 9\n" {
		t.Errorf("main after merge = %q", content)
	}
	branches, _ := e.Branches(repo)
	if branches["main"] != merged || branches["alice/change"] != sha {
		t.Errorf("branches = %v", branches)
	}
	if prs, _ := e.PullRequests(repo); len(prs) != 1 || !prs[0].Merged || prs[0].MergedBy != "alice" || prs[0].State != "closed" {
		t.Errorf("PRs = %+v", prs)
	}
	if _, err := e.OpenPullRequest("acme/missing", emulator.PullRequestSpec{Author: "a", Title: "t", Head: "h"}); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("unknown repo error = %v", err)
	}
}

func TestMergeMethods(t *testing.T) {
	tests := []struct {
		method  string
		parents int
		msg     string
	}{
		{"merge", 2, "Merge pull request #1 from acme/topic\n\nTopic"},
		{"squash", 1, "Topic (#1)\n\n* one\n\n* two"},
		{"rebase", 1, "two"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e, bot := newRepoEmulator(t, emulator.Options{})
			const repo = "acme/gitops"
			if _, err := e.Push(repo, "topic", "alice", "one", map[string]*string{"a.txt": emulator.Content("1\n")}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Push(repo, "topic", "alice", "two", map[string]*string{"b.txt": emulator.Content("2\n")}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Push(repo, "main", "bob", "elsewhere", map[string]*string{"c.txt": emulator.Content("3\n")}); err != nil {
				t.Fatal(err)
			}
			n, _ := e.OpenPullRequest(repo, emulator.PullRequestSpec{Author: "alice", Title: "Topic", Head: "topic"})
			res, _, err := bot.PullRequests.Merge(context.Background(), "acme", "gitops", n, "", &github.PullRequestOptions{MergeMethod: tt.method})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := e.GetCommit(repo, res.GetSHA())
			if len(c.Parents) != tt.parents || c.Message != tt.msg {
				t.Errorf("commit parents %d message %q", len(c.Parents), c.Message)
			}
			files, _ := e.ListFiles(repo, "main", "")
			if files["a.txt"] != "1\n" || files["b.txt"] != "2\n" || files["c.txt"] != "3\n" {
				t.Errorf("main lacks a change after %s", tt.method)
			}
		})
	}
}

// TestConcurrentMerges merges many PRs at once: each merge must land on top of the others,
// as GitHub serialises updates of the base branch.
func TestConcurrentMerges(t *testing.T) {
	e, _ := newRepoEmulator(t, emulator.Options{})
	const repo = "acme/gitops"
	const n = 12
	numbers := make([]int, n)
	for i := range n {
		branch := fmt.Sprintf("c/%d", i)
		if _, err := e.Push(repo, branch, "alice", "c", map[string]*string{fmt.Sprintf("conc/%d.txt", i): emulator.Content("x\n")}); err != nil {
			t.Fatal(err)
		}
		var err error
		if numbers[i], err = e.OpenPullRequest(repo, emulator.PullRequestSpec{Author: "alice", Title: branch, Head: branch}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clientFor(t, e.URL(), botToken)
			if _, _, err := c.PullRequests.Merge(context.Background(), "acme", "gitops", numbers[i], "", nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	files, _ := e.ListFiles(repo, "main", "conc")
	if len(files) != n {
		t.Errorf("main holds %d of %d merged files", len(files), n)
	}
}

// TestConcurrentDuplicatePRs opens the same PR from several goroutines: exactly one wins.
func TestConcurrentDuplicatePRs(t *testing.T) {
	e, _ := newRepoEmulator(t, emulator.Options{})
	if _, err := e.Push("acme/gitops", "dup", "alice", "c", map[string]*string{"d.txt": emulator.Content("d")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clientFor(t, e.URL(), botToken)
			_, _, err := c.PullRequests.Create(context.Background(), "acme", "gitops", &github.NewPullRequest{Title: str("dup"), Head: str("dup"), Base: str("main")})
			mu.Lock()
			defer mu.Unlock()
			switch statusOf(err) {
			case 0:
				created++
			case http.StatusUnprocessableEntity:
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if created != 1 || refused != 7 {
		t.Errorf("created %d, refused %d", created, refused)
	}
}

func TestDataDirKeepsState(t *testing.T) {
	dir := t.TempDir()
	opts := emulator.Options{DataDir: dir, Tokens: map[string]string{botToken: "telefonistka-bot"}}
	e, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	sha, _ := e.Push("acme/gitops", "keep", "alice", "k", map[string]*string{"k.txt": emulator.Content("kept\n")})
	n, err := e.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "Keep", Head: "keep", Labels: []string{"promotion"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Comment("acme/gitops", n, "bob", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetStatus("acme/gitops", sha, "telefonistka-bot", "success", "telefonistka", "ok"); err != nil {
		t.Fatal(err)
	}
	instBefore := installationOf(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	again := startEmulator(t, opts)
	if got := installationOf(t, again); got != instBefore {
		t.Errorf("installation id after restart = %d, want %d", got, instBefore)
	}
	if got, err := again.ReadFile("acme/gitops", "keep", "k.txt"); err != nil || got != "kept\n" {
		t.Fatalf("file after restart = %q, %v", got, err)
	}
	pr, err := again.GetPullRequest("acme/gitops", n)
	if err != nil || pr.Title != "Keep" || pr.Author != "alice" || !slices.Equal(pr.Labels, []string{"promotion"}) || pr.HeadSHA != sha {
		t.Fatalf("PR after restart = %+v, %v", pr, err)
	}
	if c, _ := again.Comments("acme/gitops", n); len(c) != 1 || c[0].Body != "hello" {
		t.Errorf("comments after restart = %+v", c)
	}
	if st, _ := again.Statuses("acme/gitops", sha); len(st) != 1 || st[0].State != "success" {
		t.Errorf("statuses after restart = %+v", st)
	}
	if _, err := again.Push("acme/gitops", "next", "alice", "n", map[string]*string{"n.txt": emulator.Content("n")}); err != nil {
		t.Fatal(err)
	}
	n2, err := again.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "Next", Head: "next"})
	if err != nil || n2 != n+1 {
		t.Errorf("next PR number = %d, %v; want %d", n2, err, n+1)
	}
	if _, err := again.MergePullRequest("acme/gitops", n, "alice"); err != nil {
		t.Errorf("merging a PR restored from disk: %v", err)
	}
}

// installationOf reads the installation id that webhooks of acme/gitops carry.
func installationOf(t *testing.T, e *emulator.Emulator) int64 {
	t.Helper()
	if _, err := e.Push("acme/gitops", "main", "alice", "probe", map[string]*string{"probe.txt": emulator.Content(uniqueName("p"))}); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e)
	d := e.Deliveries()
	var payload struct {
		Installation struct{ ID int64 } `json:"installation"`
		Sender       struct{ ID int64 } `json:"sender"`
	}
	if err := json.Unmarshal(d[len(d)-1].Payload, &payload); err != nil || payload.Installation.ID == 0 {
		t.Fatalf("payload installation: %v", err)
	}
	return payload.Installation.ID
}
