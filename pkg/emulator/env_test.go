package emulator_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

// The contract suite drives the emulator through go-github exactly as production code does.
// With GITHUB_CONTRACT_TOKEN and GITHUB_CONTRACT_REPO (owner/name of a scratch repository
// whose default branch holds at least one file) it runs against real GitHub instead;
// GITHUB_CONTRACT_APPROVER_TOKEN (another account) enables the review tests there.
// Emulator-only assertions are skipped on GitHub.

const (
	botToken      = "bot-token"
	approverToken = "approver-token"
	aliceToken    = "alice-token"
)

type contractEnv struct {
	emu           *emulator.Emulator // nil against real GitHub
	client        *github.Client     // the main (bot) identity
	approver      *github.Client     // a second identity; nil when unavailable
	owner, repo   string
	defaultBranch string
	botLogin      string
	graphqlURL    string
	token         string
}

func seedFiles() map[string]string {
	return map[string]string{
		"README.md":                             "# gitops\n",
		"telefonistka.yaml":                     "promotionPaths: []\n",
		"env/dev/app/deployment.yaml":           "replicas: 1\nimage: app:1\n",
		"env/dev/app/service.yaml":              "port: 80\n",
		"env/dev/app/config/settings.yaml":      "debug: true\n",
		"env/prod/app/deployment.yaml":          "replicas: 3\nimage: app:0\n",
		"env/prod/app/legacy.yaml":              "old: true\n",
		"env/prod/app/config/prod-only.yaml":    "secret: ref\n",
		"env/prod/other/deployment.yaml":        "replicas: 2\n",
		"scripts/run.sh":                        "#!/bin/sh\necho hi\n",
		"docs/a/very/deep/path/to/some/file.md": "deep\n",
	}
}

func startEmulator(t testing.TB, opts emulator.Options) *emulator.Emulator {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = map[string]string{botToken: "telefonistka-bot", approverToken: "approver", aliceToken: "alice"}
	}
	e, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// tokenTransport authenticates requests like a personal access token.
type tokenTransport struct{ token string }

func (tt tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "token "+tt.token)
	return http.DefaultTransport.RoundTrip(r)
}

func clientFor(t testing.TB, baseURL, token string) *github.Client {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: tokenTransport{token}}
	if baseURL == "" {
		return github.NewClient(hc)
	}
	c, err := github.NewEnterpriseClient(baseURL, baseURL, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newContractEnv(t *testing.T) *contractEnv {
	t.Helper()
	if tok, full := os.Getenv("GITHUB_CONTRACT_TOKEN"), os.Getenv("GITHUB_CONTRACT_REPO"); tok != "" && full != "" {
		owner, name, _ := strings.Cut(full, "/")
		env := &contractEnv{client: clientFor(t, "", tok), owner: owner, repo: name, token: tok,
			graphqlURL: "https://api.github.com/graphql"}
		if at := os.Getenv("GITHUB_CONTRACT_APPROVER_TOKEN"); at != "" {
			env.approver = clientFor(t, "", at)
		}
		env.fill(t)
		return env
	}
	e := startEmulator(t, emulator.Options{})
	if err := e.CreateRepo("acme", "gitops", seedFiles()); err != nil {
		t.Fatal(err)
	}
	env := &contractEnv{emu: e, client: clientFor(t, e.URL(), botToken), approver: clientFor(t, e.URL(), approverToken),
		owner: "acme", repo: "gitops", graphqlURL: e.GraphQLURL(), token: botToken}
	env.fill(t)
	return env
}

func (env *contractEnv) fill(t *testing.T) {
	ctx := context.Background()
	r, _, err := env.client.Repositories.Get(ctx, env.owner, env.repo)
	if err != nil {
		t.Fatalf("reading the contract repository: %v", err)
	}
	env.defaultBranch = r.GetDefaultBranch()
	u, _, err := env.client.Users.Get(ctx, "")
	if err != nil {
		t.Fatalf("reading the authenticated user: %v", err)
	}
	env.botLogin = u.GetLogin()
}

func (env *contractEnv) emulatorOnly(t *testing.T) {
	t.Helper()
	if env.emu == nil {
		t.Skip("emulator-only assertion")
	}
}

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// headSHA returns the commit a branch points at.
func (env *contractEnv) headSHA(t *testing.T, branch string) string {
	t.Helper()
	ref, _, err := env.client.Git.GetRef(context.Background(), env.owner, env.repo, "heads/"+branch)
	if err != nil {
		t.Fatalf("reading branch %s: %v", branch, err)
	}
	return ref.GetObject().GetSHA()
}

// branch creates a fresh branch at the default branch head and deletes it after the test.
func (env *contractEnv) branch(t *testing.T, prefix string) string {
	t.Helper()
	name := "contract/" + uniqueName(prefix)
	sha := env.headSHA(t, env.defaultBranch)
	_, _, err := env.client.Git.CreateRef(context.Background(), env.owner, env.repo,
		&github.Reference{Ref: github.String("refs/heads/" + name), Object: &github.GitObject{SHA: github.String(sha)}})
	if err != nil {
		t.Fatalf("creating branch %s: %v", name, err)
	}
	t.Cleanup(func() { _, _ = env.client.Git.DeleteRef(context.Background(), env.owner, env.repo, "heads/"+name) })
	return name
}

// commit writes changes (nil deletes) on top of branch with the Git Data API and moves the
// branch; it returns the new commit SHA.
func (env *contractEnv) commit(t *testing.T, branch string, changes map[string]*string) string {
	t.Helper()
	ctx := context.Background()
	parent := env.headSHA(t, branch)
	pc, _, err := env.client.Git.GetCommit(ctx, env.owner, env.repo, parent)
	if err != nil {
		t.Fatal(err)
	}
	var entries []*github.TreeEntry
	for p, c := range changes {
		entries = append(entries, &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob"), Content: c})
	}
	tree, _, err := env.client.Git.CreateTree(ctx, env.owner, env.repo, pc.GetTree().GetSHA(), entries)
	if err != nil {
		t.Fatalf("creating tree: %v", err)
	}
	c, _, err := env.client.Git.CreateCommit(ctx, env.owner, env.repo, &github.Commit{
		Message: github.String("contract test change"), Tree: tree, Parents: []*github.Commit{{SHA: github.String(parent)}}})
	if err != nil {
		t.Fatalf("creating commit: %v", err)
	}
	_, _, err = env.client.Git.UpdateRef(ctx, env.owner, env.repo,
		&github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: c.SHA}}, false)
	if err != nil {
		t.Fatalf("moving branch %s: %v", branch, err)
	}
	return c.GetSHA()
}

// openPR opens a PR from a fresh branch with changes and closes it after the test.
func (env *contractEnv) openPR(t *testing.T, changes map[string]*string) (*github.PullRequest, string) {
	t.Helper()
	branch := env.branch(t, "pr")
	env.commit(t, branch, changes)
	pr, _, err := env.client.PullRequests.Create(context.Background(), env.owner, env.repo, &github.NewPullRequest{
		Title: github.String("Contract test " + branch), Head: github.String(branch), Base: github.String(env.defaultBranch),
		Body: github.String("body")})
	if err != nil {
		t.Fatalf("opening PR: %v", err)
	}
	t.Cleanup(func() {
		_, _, _ = env.client.PullRequests.Edit(context.Background(), env.owner, env.repo, pr.GetNumber(), &github.PullRequest{State: github.String("closed")})
	})
	return pr, branch
}

func str(s string) *string { return &s }

// statusOf returns the HTTP status of a go-github error (0 for none).
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response.StatusCode
	}
	return 0
}

func messageOf(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		parts := []string{er.Message}
		for _, e := range er.Errors {
			parts = append(parts, e.Message)
		}
		return strings.Join(parts, " | ")
	}
	return ""
}

func expectStatus(t *testing.T, err error, status int, contains string) {
	t.Helper()
	if got := statusOf(err); got != status {
		t.Fatalf("status = %d (%v), want %d", got, err, status)
	}
	if contains != "" && !strings.Contains(messageOf(err), contains) {
		t.Fatalf("message %q does not contain %q", messageOf(err), contains)
	}
}

func (env *contractEnv) comment(number int, body string) (*github.IssueComment, error) {
	c, _, err := env.client.Issues.CreateComment(context.Background(), env.owner, env.repo, number, &github.IssueComment{Body: &body})
	return c, err
}
