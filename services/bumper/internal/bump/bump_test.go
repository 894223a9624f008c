package bump

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

const (
	owner   = "acme"
	name    = "gitops"
	repo    = owner + "/" + name
	trigger = "acme/billing"
	sha     = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
	branch  = "artifact_version_bump/acme/billing/9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
	values  = "apps/billing/values.yaml"
)

const valuesYAML = `# billing
image:
  repository: registry.example.com/billing
  tag: v1.4.0 # deployed
db:
  - name: postgres
    image:
      tag: "15.3"
`

// fixture is an emulator with the GitOps repository and a GitHub client on it.
type fixture struct {
	em *emulator.Emulator
	gh GitHub
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	em, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	if err := em.CreateRepo(owner, name, map[string]string{values: valuesYAML, "README.md": "gitops\n"}); err != nil {
		t.Fatal(err)
	}
	f, err := githubapi.NewFactory(githubapi.Config{OAuthToken: "any", URL: em.URL()}, githubapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{em: em, gh: githubapi.NewGitHub(f, nil)}
}

func (f *fixture) run(t *testing.T, req Request) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &Runner{Merge: githubapi.MergeRetry{Initial: 10 * time.Millisecond}}
	req.Repo = events.Repo{Owner: owner, Name: name}
	return r.Run(ctx, f.gh, req)
}

func yamlRequest(address, value string) Request {
	return Request{File: values, Change: YAML{Address: address, Value: value}, TriggeringRepo: trigger, SHA: sha, Actor: "octocat"}
}

func (f *fixture) file(t *testing.T, ref, path string) string {
	t.Helper()
	s, err := f.em.ReadFile(repo, ref, path)
	if err != nil {
		t.Fatalf("reading %s at %s: %v", path, ref, err)
	}
	return s
}

func (f *fixture) pulls(t *testing.T) []emulator.PullRequest {
	t.Helper()
	prs, err := f.em.PullRequests(repo)
	if err != nil {
		t.Fatal(err)
	}
	return prs
}

func (f *fixture) branches(t *testing.T) map[string]string {
	t.Helper()
	b, err := f.em.Branches(repo)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpensPR(t *testing.T) {
	f := newFixture(t)
	res, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged || res.Adopted || res.PR == nil || res.Branch != branch || res.BaseBranch != "main" {
		t.Fatalf("unexpected result %+v", res)
	}
	want := strings.Replace(valuesYAML, "tag: v1.4.0 # deployed", "tag: v1.5.0 # deployed", 1)
	if got := f.file(t, branch, values); got != want {
		t.Errorf("file on the branch:\n%s\nwant:\n%s", got, want)
	}
	if got := f.file(t, "main", values); got != valuesYAML {
		t.Errorf("the default branch changed:\n%s", got)
	}
	c, err := f.em.GetCommit(repo, branch)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "Bumping version @ apps/billing/values.yaml" || len(c.Parents) != 1 || c.Parents[0] != res.BaseCommit || c.SHA != res.Commit {
		t.Errorf("commit %+v, base %s", c, res.BaseCommit)
	}
	prs := f.pulls(t)
	if len(prs) != 1 {
		t.Fatalf("%d PRs, want 1", len(prs))
	}
	pr := prs[0]
	if pr.Title != "acme/billing🚠 Bumping version @ apps/billing/values.yaml" ||
		pr.Body != "Bumping version triggered by acme/billing@"+sha ||
		pr.Head != branch || pr.Base != "main" || pr.State != "open" || pr.Merged {
		t.Errorf("PR %+v", pr)
	}
	if strings.Join(pr.Labels, ",") != "promotion" || strings.Join(pr.Assignees, ",") != "octocat" {
		t.Errorf("labels %v, assignees %v", pr.Labels, pr.Assignees)
	}
	if res.PR.Number != pr.Number || !strings.HasSuffix(res.PR.URL, "/acme/gitops/pull/1") {
		t.Errorf("result PR %+v", res.PR)
	}
}

func TestModes(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		file string
		want string
	}{
		{"regex", Request{File: values, Change: Regex{Re: regexp.MustCompile(`tag: v[0-9.]+`), Replacement: "tag: v2.0.0"}}, values,
			strings.Replace(valuesYAML, "tag: v1.4.0", "tag: v2.0.0", 1)},
		{"regex with group", Request{File: values, Change: Regex{Re: regexp.MustCompile(`(tag: v)[0-9.]+`), Replacement: "${1}3"}}, values,
			strings.Replace(valuesYAML, "tag: v1.4.0", "tag: v3", 1)},
		{"overwrite existing", Request{File: values, Change: Overwrite{Content: []byte("image: {tag: v9}\n")}}, values, "image: {tag: v9}\n"},
		{"overwrite creates", Request{File: "apps/new/version.txt", Change: Overwrite{Content: []byte("1.0.0\n")}}, "apps/new/version.txt", "1.0.0\n"},
		{"yaml list element by field", yamlRequest(`.db.[] | select(.name == "postgres").image.tag`, "16.2"), values,
			strings.Replace(valuesYAML, `tag: "15.3"`, `tag: "16.2"`, 1)},
		{"yaml new key", yamlRequest(".image.digest", "sha256:abc"), values,
			strings.Replace(valuesYAML, "tag: v1.4.0 # deployed\n", "tag: v1.4.0 # deployed\n  digest: sha256:abc\n", 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.req.TriggeringRepo, c.req.SHA = trigger, sha
			if _, err := f.run(t, c.req); err != nil {
				t.Fatal(err)
			}
			if got := f.file(t, branch, c.file); got != c.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, c.want)
			}
			if n := len(f.pulls(t)); n != 1 {
				t.Errorf("%d PRs", n)
			}
		})
	}
}

func TestUnchangedWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.em.ResetCounters()
	res, err := f.run(t, yamlRequest(".image.tag", "v1.4.0"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unchanged || res.PR != nil || res.BaseCommit == "" {
		t.Fatalf("result %+v", res)
	}
	assertNothingWritten(t, f)
}

func assertNothingWritten(t *testing.T, f *fixture) {
	t.Helper()
	for key, n := range f.em.Counters() {
		if !strings.HasPrefix(key, "GET ") && n > 0 {
			t.Errorf("%s called %d times", key, n)
		}
	}
	if b := f.branches(t); len(b) != 1 {
		t.Errorf("branches %v", b)
	}
	if n := len(f.pulls(t)); n != 0 {
		t.Errorf("%d PRs", n)
	}
}

func TestInvalidInputWritesNothing(t *testing.T) {
	cases := []struct {
		name, step, msg string
		req             Request
	}{
		{"regex matches nothing", "computing the new content of " + values, "matches nothing",
			Request{File: values, Change: Regex{Re: regexp.MustCompile(`version: \d+`), Replacement: "x"}}},
		{"regex breaks the YAML", "checking the new content", "apps/billing/values.yaml is not valid YAML",
			Request{File: values, Change: Regex{Re: regexp.MustCompile(`tag: v1.4.0`), Replacement: "tag: [v1"}}},
		{"overwrite breaks the YAML", "checking the new content", "not valid YAML",
			Request{File: values, Change: Overwrite{Content: []byte("a: b: c\n")}}},
		{"missing file for regex", "computing the new content of apps/none.yaml", "apps/none.yaml does not exist on main",
			Request{File: "apps/none.yaml", Change: Regex{Re: regexp.MustCompile(`x`), Replacement: "y"}}},
		{"missing file for yaml", "computing the new content of apps/none.yaml", "does not exist",
			Request{File: "apps/none.yaml", Change: YAML{Address: ".a", Value: "b"}}},
		{"yaml address selects nothing", "computing the new content of " + values, "selects no node",
			yamlRequest(`.db[] | select(.name == "mysql").image.tag`, "8")},
		{"file is a directory", "reading apps/billing at main", "is a directory",
			Request{File: "apps/billing", Change: Overwrite{Content: []byte("x")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.em.ResetCounters()
			c.req.TriggeringRepo, c.req.SHA = trigger, sha
			_, err := f.run(t, c.req)
			var se *StepError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a StepError", err)
			}
			if se.Step != c.step || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q (step %q), want step %q mentioning %q", err, se.Step, c.step, c.msg)
			}
			if !se.Permanent() {
				t.Errorf("error %v is not permanent", err)
			}
			assertNothingWritten(t, f)
		})
	}
}

func TestExistingBranchWithoutPRIsUpdated(t *testing.T) {
	f := newFixture(t)
	stale, err := f.em.Push(repo, branch, "someone", "leftover", map[string]*string{"junk.txt": emulator.Content("x")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit == stale || f.branches(t)[branch] != res.Commit {
		t.Fatalf("branch at %s, result commit %s, stale %s", f.branches(t)[branch], res.Commit, stale)
	}
	if _, err := f.em.ReadFile(repo, branch, "junk.txt"); err == nil {
		t.Error("the branch still holds the leftover commit's file")
	}
	if n := len(f.pulls(t)); n != 1 {
		t.Errorf("%d PRs", n)
	}
}

func TestRerunAdoptsOpenPR(t *testing.T) {
	f := newFixture(t)
	first, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	f.em.ResetCounters()
	again, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Adopted || again.PR.Number != first.PR.Number || again.PR.URL != first.PR.URL || again.Commit != first.Commit {
		t.Fatalf("second run %+v, first %+v", again, first)
	}
	assertNoWrites(t, f)
	if n := len(f.pulls(t)); n != 1 {
		t.Errorf("%d PRs", n)
	}
}

func assertNoWrites(t *testing.T, f *fixture) {
	t.Helper()
	for key, n := range f.em.Counters() {
		if !strings.HasPrefix(key, "GET ") && n > 0 {
			t.Errorf("%s called %d times", key, n)
		}
	}
}

func TestRerunAfterCrashReusesCommit(t *testing.T) {
	f := newFixture(t)
	// A first run that stopped after pushing the branch: same tree and parent.
	first, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.em.ClosePullRequest(repo, first.PR.Number, "octocat"); err != nil {
		t.Fatal(err)
	}
	f.em.ResetCounters()
	again, err := f.run(t, yamlRequest(".image.tag", "v1.5.0"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Adopted || again.Commit != first.Commit {
		t.Fatalf("second run %+v, first commit %s", again, first.Commit)
	}
	for _, key := range []string{"POST /repos/{owner}/{repo}/git/commits", "PATCH /repos/{owner}/{repo}/git/refs/*"} {
		if n := f.em.Count(key); n != 0 {
			t.Errorf("%s called %d times", key, n)
		}
	}
}

func TestCompleteAdoptedRunsMissingSteps(t *testing.T) {
	f := newFixture(t)
	req := yamlRequest(".image.tag", "v1.5.0")
	req.Actor = ""
	first, err := f.run(t, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Actor, req.AutoMerge, req.CompleteAdopted = "octocat", true, true
	again, err := f.run(t, req)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Adopted || !again.Merged || again.PR.Number != first.PR.Number {
		t.Fatalf("second run %+v", again)
	}
	pr, err := f.em.GetPullRequest(repo, first.PR.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Merged || strings.Join(pr.Assignees, ",") != "octocat" || strings.Join(pr.Labels, ",") != "promotion" {
		t.Errorf("PR %+v", pr)
	}
}

func TestAutoMergeRetriesBaseBranchModified(t *testing.T) {
	f := newFixture(t)
	f.em.FailNextMerge()
	req := yamlRequest(".image.tag", "v1.5.0")
	req.AutoMerge = true
	res, err := f.run(t, req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Merged || res.MergeCommit == "" {
		t.Fatalf("result %+v", res)
	}
	if n := f.em.Count("PUT /repos/{owner}/{repo}/pulls/{number}/merge"); n != 2 {
		t.Errorf("%d merge attempts, want 2", n)
	}
	pr, err := f.em.GetPullRequest(repo, res.PR.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Merged || pr.MergeCommitSHA != res.MergeCommit {
		t.Fatalf("PR %+v", pr)
	}
	c, err := f.em.GetCommit(repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Message, "Auto-merge") || c.SHA != res.MergeCommit {
		t.Errorf("main head %+v", c)
	}
	if got := f.file(t, "main", values); !strings.Contains(got, "tag: v1.5.0") {
		t.Errorf("main after the merge:\n%s", got)
	}
}

// otherDefault reports another default branch than the emulator's "main"
// (the emulator cannot change it yet).
type otherDefault struct {
	GitHub
	branch string
}

func (o otherDefault) Repository(ctx context.Context, repo events.Repo) (githubapi.Repository, error) {
	r, err := o.GitHub.Repository(ctx, repo)
	r.DefaultBranch = o.branch
	return r, err
}

func TestUsesTheDefaultBranchTheRepositoryNames(t *testing.T) {
	f := newFixture(t)
	release := strings.Replace(valuesYAML, "v1.4.0", "v1.3.0", 1)
	base, err := f.em.Push(repo, "release", "octocat", "release line", map[string]*string{values: &release})
	if err != nil {
		t.Fatal(err)
	}
	f.gh = otherDefault{GitHub: f.gh, branch: "release"}
	res, err := f.run(t, yamlRequest(".image.tag", "v1.3.1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.BaseBranch != "release" || res.BaseCommit != base {
		t.Fatalf("result %+v, release head %s", res, base)
	}
	if got := f.file(t, branch, values); got != strings.Replace(valuesYAML, "v1.4.0", "v1.3.1", 1) {
		t.Errorf("file on the branch:\n%s", got)
	}
	c, err := f.em.GetCommit(repo, branch)
	if err != nil || len(c.Parents) != 1 || c.Parents[0] != base {
		t.Errorf("commit %+v, %v", c, err)
	}
	if prs := f.pulls(t); len(prs) != 1 || prs[0].Base != "release" {
		t.Errorf("PRs %+v", prs)
	}
}
