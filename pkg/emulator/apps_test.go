package emulator_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

func rsaKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// TestGitHubAppAuthentication follows ghinstallation's flow: a JWT lists installations and
// mints an installation token, which then acts as "<slug>[bot]".
func TestGitHubAppAuthentication(t *testing.T) {
	key, keyPEM := rsaKey(t)
	e := startEmulator(t, emulator.Options{Apps: []emulator.App{{ID: 42, Slug: "promoter", PublicKey: &key.PublicKey}}})
	for _, r := range [][2]string{{"acme", "gitops"}, {"acme", "second"}, {"other", "repo"}} {
		if err := e.CreateRepo(r[0], r[1], seedFiles()); err != nil {
			t.Fatal(err)
		}
	}
	base := strings.TrimSuffix(e.URL(), "/")
	ctx := context.Background()

	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, 42, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = base
	appClient, _ := github.NewEnterpriseClient(e.URL(), e.URL(), &http.Client{Transport: atr})
	app, _, err := appClient.Apps.Get(ctx, "")
	if err != nil || app.GetSlug() != "promoter" || app.GetID() != 42 {
		t.Fatalf("app = %v, %v", app, err)
	}
	var all []*github.Installation
	opts := &github.ListOptions{PerPage: 1}
	for {
		page, resp, err := appClient.Apps.ListInstallations(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var acme int64
	for _, in := range all {
		if in.GetAccount().GetLogin() == "acme" {
			acme = in.GetID()
		}
	}
	if len(all) != 2 || acme == 0 {
		t.Fatalf("installations = %d (acme %d)", len(all), acme)
	}
	byRepo, _, err := appClient.Apps.FindRepositoryInstallation(ctx, "acme", "gitops")
	if err != nil || byRepo.GetID() != acme {
		t.Errorf("repository installation = %v, %v", byRepo.GetID(), err)
	}
	byOrg, _, err := appClient.Apps.FindOrganizationInstallation(ctx, "acme")
	if err != nil || byOrg.GetID() != acme {
		t.Errorf("organization installation = %v, %v", byOrg.GetID(), err)
	}
	if _, _, err := appClient.Repositories.Get(ctx, "acme", "gitops"); statusOf(err) != http.StatusForbidden {
		t.Errorf("JWT on a repository route = %v, want 403", err)
	}

	itr := ghinstallation.NewFromAppsTransport(atr, acme)
	itr.BaseURL = base
	inst, _ := github.NewEnterpriseClient(e.URL(), e.URL(), &http.Client{Transport: itr})
	n, _, err := inst.Issues.Create(ctx, "acme", "gitops", &github.IssueRequest{Title: str("from the app")})
	if err != nil || n.GetUser().GetLogin() != "promoter[bot]" || n.GetUser().GetType() != "Bot" {
		t.Fatalf("issue by installation = %v %v, %v", n.GetUser().GetLogin(), n.GetUser().GetType(), err)
	}
	repos, _, err := inst.Apps.ListRepos(ctx, nil)
	if err != nil || repos.GetTotalCount() != 2 {
		t.Errorf("installation repositories = %d, %v", repos.GetTotalCount(), err)
	}
	if _, _, err := inst.Repositories.Get(ctx, "other", "repo"); statusOf(err) != http.StatusNotFound {
		t.Errorf("another owner's repository = %v, want 404", err)
	}
	if _, _, err := inst.Users.Get(ctx, ""); statusOf(err) != http.StatusForbidden {
		t.Errorf("GET /user with an installation token = %v, want 403", err)
	}
	gql := githubv4.NewEnterpriseClient(e.GraphQLURL(), &http.Client{Transport: itr, Timeout: 10 * time.Second})
	var q struct{ Viewer struct{ Login string } }
	if err := gql.Query(ctx, &q, nil); err != nil || q.Viewer.Login != "promoter[bot]" {
		t.Errorf("GraphQL viewer = %q, %v", q.Viewer.Login, err)
	}

	_, otherPEM := rsaKey(t)
	bad, _ := ghinstallation.NewAppsTransport(http.DefaultTransport, 42, otherPEM)
	bad.BaseURL = base
	badClient, _ := github.NewEnterpriseClient(e.URL(), e.URL(), &http.Client{Transport: bad})
	if _, _, err := badClient.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("JWT signed with another key = %v, want 401", err)
	}
	unknown, _ := ghinstallation.NewAppsTransport(http.DefaultTransport, 7, keyPEM)
	unknown.BaseURL = base
	unknownClient, _ := github.NewEnterpriseClient(e.URL(), e.URL(), &http.Client{Transport: unknown})
	if _, _, err := unknownClient.Apps.Get(ctx, ""); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("JWT of an unknown app = %v, want 401", err)
	}
	if _, _, err := clientFor(t, e.URL(), botToken).Apps.ListInstallations(ctx, nil); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("token on /app/installations = %v, want 401", err)
	}
}

// InstallationToken hands tests the kind of token a GitHub Actions workflow
// gets as GITHUB_TOKEN: an installation token of the github-actions app.
func TestInstallationTokenGoAPI(t *testing.T) {
	e := startEmulator(t, emulator.Options{Apps: []emulator.App{{ID: 15368, Slug: "github-actions"}}})
	for _, owner := range []string{"acme", "other"} {
		if err := e.CreateRepo(owner, "gitops", seedFiles()); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := e.InstallationToken(15368, "acme")
	if err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("token = %q, %v", tok, err)
	}
	ctx := context.Background()
	c := clientFor(t, e.URL(), tok)
	if _, _, err := c.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Errorf("the installation's repository: %v", err)
	}
	if _, _, err := c.Repositories.Get(ctx, "other", "gitops"); statusOf(err) != http.StatusNotFound {
		t.Errorf("another owner's repository = %v, want 404", err)
	}
	if _, _, err := c.Users.Get(ctx, ""); statusOf(err) != http.StatusForbidden {
		t.Errorf("GET /user = %v, want 403", err)
	}
	if _, err := e.InstallationToken(99, "acme"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("unknown app: %v, want ErrNotFound", err)
	}
	if _, err := e.InstallationToken(15368, "nobody"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
}
