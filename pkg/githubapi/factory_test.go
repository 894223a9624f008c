package githubapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestFactory(t *testing.T, cfg Config) (*Factory, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	f, err := NewFactory(cfg, Options{Registerer: reg})
	if err != nil {
		t.Fatalf("NewFactory: %v", err)
	}
	return f, reg
}

func TestTokenAuth(t *testing.T) {
	gh := newFakeGitHub(t, 0, nil)
	f, _ := newTestFactory(t, Config{OAuthToken: Secret(gh.token), URL: gh.restURL()})
	ctx := context.Background()

	client, err := f.ForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := client.Repositories.Get(ctx, "acme", "gitops")
	if err != nil {
		t.Fatalf("get repo with token: %v", err)
	}
	if repo.GetFullName() != "acme/gitops" {
		t.Errorf("full name = %q", repo.GetFullName())
	}
	again, _ := f.ForOwner(ctx, "ACME")
	if again != client {
		t.Error("ForOwner does not reuse the client of an owner")
	}
	if got := testutil.ToFloat64(f.Metrics().operations.WithLabelValues("repos", "", "acme/gitops", "200", "GET")); got != 1 {
		t.Errorf("operations{repos,,acme/gitops,200,GET} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.Metrics().rateRemaining.WithLabelValues("acme")); got != 4999 {
		t.Errorf("rate remaining gauge for acme = %v, want 4999", got)
	}
	if got := testutil.ToFloat64(f.Metrics().rateLimit.WithLabelValues("acme")); got != 5000 {
		t.Errorf("rate limit gauge for acme = %v, want 5000", got)
	}
}

func appFixture(t *testing.T) (*fakeGitHub, string) {
	key, path := appKey(t)
	gh := newFakeGitHub(t, 4242, &key.PublicKey)
	gh.pages = [][]fakeInstallation{
		{{ID: 11, Login: "first-org"}, {ID: 12, Login: "second-org"}},
		{{ID: 21, Login: "Acme"}},
	}
	return gh, path
}

func TestAppAuthFindsInstallationOnLaterPage(t *testing.T) {
	gh, keyPath := appFixture(t)
	f, _ := newTestFactory(t, Config{AppID: 4242, AppPrivateKeyPath: keyPath, URL: gh.restURL()})
	ctx := context.Background()

	for _, owner := range []string{"acme", "Acme"} {
		client, err := f.ForOwner(ctx, owner)
		if err != nil {
			t.Fatalf("ForOwner(%s): %v", owner, err)
		}
		if _, _, err := client.Repositories.Get(ctx, owner, "gitops"); err != nil {
			t.Fatalf("get repo as installation of %s: %v", owner, err)
		}
	}
	if n := gh.count("GET", "/api/v3/app/installations"); n != 2 {
		t.Errorf("installation list calls = %d, want 2 (two pages, then cached)", n)
	}
	if n := gh.count("POST", "/api/v3/app/installations/21/access_tokens"); n != 1 {
		t.Errorf("access token requests = %d, want 1 (token reused)", n)
	}
	// Other owners were learnt from the same listing.
	if _, err := f.ForOwner(ctx, "second-org"); err != nil {
		t.Fatal(err)
	}
	if n := gh.count("GET", "/api/v3/app/installations"); n != 2 {
		t.Errorf("installation list calls = %d after a second owner, want still 2", n)
	}
	if got := testutil.ToFloat64(f.Metrics().operations.WithLabelValues("app", "access_tokens", "installations/21", "201", "POST")); got != 1 {
		t.Errorf("token request not counted: %v", got)
	}
	owners, err := f.InstallationOwners(ctx)
	if err != nil || strings.Join(owners, ",") != "Acme,first-org,second-org" {
		t.Errorf("InstallationOwners = %v, %v", owners, err)
	}
}

func TestAppWithoutInstallationIsPermanent(t *testing.T) {
	gh, keyPath := appFixture(t)
	f, _ := newTestFactory(t, Config{AppID: 4242, AppPrivateKeyPath: keyPath, URL: gh.restURL()})
	_, err := f.ForOwner(context.Background(), "stranger")
	var noInst *NoInstallationError
	if !errors.As(err, &noInst) || noInst.Owner != "stranger" {
		t.Fatalf("err = %v, want NoInstallationError for stranger", err)
	}
	if !isPermanent(err) {
		t.Error("a missing installation is not permanent")
	}
	// Not cached: installing the app later is noticed.
	gh.pages[1] = append(gh.pages[1], fakeInstallation{ID: 31, Login: "stranger"})
	if _, err := f.ForOwner(context.Background(), "stranger"); err != nil {
		t.Errorf("after installing: %v", err)
	}
}

func TestAppReinstalledIsLookedUpAgain(t *testing.T) {
	gh, keyPath := appFixture(t)
	f, _ := newTestFactory(t, Config{AppID: 4242, AppPrivateKeyPath: keyPath, URL: gh.restURL()})
	ctx := context.Background()
	client, err := f.ForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	gh.mu.Lock()
	gh.gone[21] = true
	gh.pages[1] = []fakeInstallation{{ID: 22, Login: "Acme"}}
	gh.mu.Unlock()
	_, _, err = client.Repositories.Get(ctx, "acme", "gitops")
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(Classify(err), &ra) || isPermanent(Classify(err)) {
		t.Fatalf("a removed installation gives %v, want a quick retry", err)
	}
	client, err = f.ForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatalf("after reinstall: %v", err)
	}
	if n := gh.count("POST", "/api/v3/app/installations/22/access_tokens"); n != 1 {
		t.Errorf("token requests for the new installation = %d, want 1", n)
	}
}

func TestBrokenAppKeyFailsAtStart(t *testing.T) {
	path := t.TempDir() + "/bad.pem"
	_, err := NewFactory(Config{AppID: 1, AppPrivateKeyPath: path}, Options{})
	var cerr *CredentialsError
	if !errors.As(err, &cerr) || cerr.Identity != "main" {
		t.Fatalf("err = %v, want main CredentialsError", err)
	}
}

func TestBotLogin(t *testing.T) {
	t.Run("token user without [bot]", func(t *testing.T) {
		gh := newFakeGitHub(t, 0, nil)
		f, _ := newTestFactory(t, Config{OAuthToken: Secret(gh.token), URL: gh.restURL()})
		for range 2 {
			login, err := f.BotLogin(context.Background())
			if err != nil || login != "octo-bot" {
				t.Fatalf("BotLogin = %q, %v; want octo-bot", login, err)
			}
		}
		if n := gh.count("POST", "/api/graphql"); n != 1 {
			t.Errorf("GraphQL calls = %d, want 1", n)
		}
	})
	t.Run("installation token (GitHub Actions GITHUB_TOKEN)", func(t *testing.T) {
		gh := newFakeGitHub(t, 0, nil)
		gh.slug = "github-actions"
		gh.tokens["ghs_actions_token"] = "acme"
		f, _ := newTestFactory(t, Config{OAuthToken: "ghs_actions_token", URL: gh.restURL()})
		login, err := f.BotLogin(context.Background())
		if err != nil || login != "github-actions" {
			t.Fatalf("BotLogin = %q, %v; want github-actions", login, err)
		}
	})
	t.Run("app slug", func(t *testing.T) {
		gh, keyPath := appFixture(t)
		f, _ := newTestFactory(t, Config{AppID: 4242, AppPrivateKeyPath: keyPath, URL: gh.restURL()})
		login, err := f.BotLogin(context.Background())
		if err != nil || login != "telefonistka-test" {
			t.Fatalf("BotLogin = %q, %v", login, err)
		}
	})
	t.Run("bad token is permanent and not cached", func(t *testing.T) {
		gh := newFakeGitHub(t, 0, nil)
		f, _ := newTestFactory(t, Config{OAuthToken: "wrong", URL: gh.restURL()})
		_, err := f.BotLogin(context.Background())
		if !isPermanent(err) || !strings.Contains(err.Error(), "Bad credentials") {
			t.Fatalf("err = %v, want permanent with GitHub's message", err)
		}
		_, _ = f.BotLogin(context.Background())
		if n := gh.count("POST", "/api/graphql"); n != 2 {
			t.Errorf("GraphQL calls = %d, want 2 (failures are not cached)", n)
		}
	})
}

func TestApprover(t *testing.T) {
	gh, keyPath := appFixture(t)
	ctx := context.Background()
	base := Config{OAuthToken: Secret(gh.token), URL: gh.restURL()}

	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"missing", func(*Config) {}, "no credentials"},
		{"app id without key", func(c *Config) { c.ApproverAppID = 4242 }, "APPROVER_GITHUB_APP_PRIVATE_KEY_PATH is empty"},
		{"key without app id", func(c *Config) { c.ApproverAppPrivateKeyPath = keyPath }, "APPROVER_GITHUB_APP_ID is empty"},
		{"unreadable key", func(c *Config) { c.ApproverAppID, c.ApproverAppPrivateKeyPath = 4242, keyPath+".missing" }, "unusable GitHub App key"},
		{"token", func(c *Config) { c.ApproverOAuthToken = Secret(gh.token) }, ""},
		{"app", func(c *Config) { c.ApproverAppID, c.ApproverAppPrivateKeyPath = 4242, keyPath }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mutate(&cfg)
			f, _ := newTestFactory(t, cfg) // never fails because of the approver
			client, err := f.ApproverForOwner(ctx, "acme")
			if tc.wantErr != "" {
				if !errors.Is(err, ErrApproverUnavailable) || !isPermanent(err) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want permanent ErrApproverUnavailable mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.Repositories.Get(ctx, "acme", "gitops"); err != nil {
				t.Fatalf("approver call: %v", err)
			}
			main, _ := f.ForOwner(ctx, "acme")
			if main == client {
				t.Error("approver and main identity share a client")
			}
		})
	}
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

func TestConcurrentFirstCallsListOnce(t *testing.T) {
	gh, keyPath := appFixture(t)
	f, _ := newTestFactory(t, Config{AppID: 4242, AppPrivateKeyPath: keyPath, URL: gh.restURL()})
	var wg sync.WaitGroup
	for _, owner := range []string{"acme", "first-org", "second-org", "acme", "Acme", "first-org"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.ForOwner(context.Background(), owner); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := gh.count("GET", "/api/v3/app/installations"); n != 2 {
		t.Errorf("installation list calls = %d, want 2 (one listing of two pages)", n)
	}
}

func TestGHESHostWithApp(t *testing.T) {
	key, keyPath := appKey(t)
	gh, tr := newFakeGHES(t, 4242, &key.PublicKey)
	gh.pages = [][]fakeInstallation{{{ID: 5, Login: "acme"}}}
	host := strings.TrimPrefix(gh.srv.URL, "https://")
	reg := prometheus.NewRegistry()
	f, err := NewFactory(Config{AppID: 4242, AppPrivateKeyPath: keyPath, Host: "https://" + host + "/"}, Options{Registerer: reg, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := f.ForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatal(err)
	}
	gql, err := f.GraphQLForOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var q struct{ Viewer struct{ Login string } }
	if err := gql.Query(ctx, &q, nil); err != nil {
		t.Fatalf("GraphQL at /api/graphql: %v", err)
	}
	// The fake answers SLUG[bot] only to the installation's token.
	if q.Viewer.Login != "telefonistka-test[bot]" {
		t.Errorf("viewer = %q, want the installation's bot", q.Viewer.Login)
	}
	if graphQLHits := gh.count("POST", "/api/graphql"); graphQLHits != 1 || gh.count("POST", "/api/v3/app/installations/5/access_tokens") != 1 || gh.count("GET", "/api/v3/repos/acme/gitops") != 1 {
		t.Errorf("graphql %d, calls %v", graphQLHits, gh.calls)
	}
}
