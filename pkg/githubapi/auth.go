package githubapi

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v52/github"
)

// tokenTransport authenticates every request with a token.
type tokenTransport struct {
	token Secret
	next  http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token.Reveal())
	return t.next.RoundTrip(r)
}

// readAppKey reads and parses a GitHub App's PEM private key.
func readAppKey(path string) (*rsa.PrivateKey, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the app private key: %w", err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("parsing the app private key %s: %w", path, err)
	}
	return key, nil
}

// appsTransport authenticates as the App itself (a JWT), for /app calls
// and installation token requests.
func (id *identity) appsTransport(next http.RoundTripper) *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(next, id.appID, id.key)
	atr.BaseURL = id.f.endpoints.restRoot()
	return atr
}

// installationTransport authenticates as one installation. Its token
// requests pass through next too, so they are counted.
func (id *identity) installationTransport(installationID int64, next http.RoundTripper, forget func()) http.RoundTripper {
	itr := ghinstallation.NewFromAppsTransport(id.appsTransport(next), installationID)
	itr.BaseURL = id.f.endpoints.restRoot()
	return &installationGoneTransport{next: itr, forget: forget}
}

// installationGoneTransport drops a cached installation whose token request
// answers 404 (the app was uninstalled or reinstalled), so the next call
// looks it up again.
type installationGoneTransport struct {
	next   http.RoundTripper
	forget func()
}

func (t *installationGoneTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	var herr *ghinstallation.HTTPError
	if err != nil && errors.As(err, &herr) && herr.Response != nil {
		if herr.Response.Body != nil {
			_ = herr.Response.Body.Close()
		}
		if herr.Response.StatusCode == http.StatusNotFound {
			t.forget()
			// The next attempt lists the installations again: retry soon.
			return nil, &RetryAfterError{Delay: time.Second, Err: fmt.Errorf("installation gone, looking it up again: %w", err)}
		}
	}
	return resp, err
}

// installation is one installation of a GitHub App.
type installation struct {
	ID    int64
	Login string // account login as GitHub spells it
}

// listInstallations returns every installation of the App keyed by its
// lower-case account login, reading all pages.
func (id *identity) listInstallations(ctx context.Context) (map[string]installation, error) {
	client := id.appClient()
	found := map[string]installation{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := client.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing installations of GitHub App %d: %w", id.appID, err)
		}
		for _, inst := range page {
			if login := inst.GetAccount().GetLogin(); login != "" {
				found[strings.ToLower(login)] = installation{ID: inst.GetID(), Login: login}
			}
		}
		if resp.NextPage == 0 {
			return found, nil
		}
		opts.Page = resp.NextPage
	}
}

// appClient is a REST client authenticated as the App itself.
func (id *identity) appClient() *github.Client {
	id.appOnce.Do(func() {
		tr := id.appsTransport(id.f.instrument("", id.f.base))
		id.app = id.f.newREST(tr)
	})
	return id.app
}
