package githubapi

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Endpoints are the resolved GitHub API addresses.
type Endpoints struct {
	// REST is the REST base URL, always ending in "/".
	REST *url.URL
	// Upload is the upload base URL, always ending in "/".
	Upload *url.URL
	// GraphQL is the GraphQL endpoint.
	GraphQL string
}

// restRoot is REST without its trailing slash, as GitHub App token
// requests expect it.
func (e Endpoints) restRoot() string { return strings.TrimSuffix(e.REST.String(), "/") }

// publicHosts are the names that mean github.com rather than a GHES host.
var publicHosts = map[string]bool{"github.com": true, "api.github.com": true}

// Endpoints resolves the API addresses: GITHUB_URL if set, else
// GITHUB_HOST (always over https), else github.com.
func (c Config) Endpoints() (Endpoints, error) {
	switch {
	case strings.TrimSpace(c.URL) != "":
		return endpointsFromURL(strings.TrimSpace(c.URL))
	case strings.TrimSpace(c.Host) != "":
		return endpointsFromHost(strings.TrimSpace(c.Host))
	default:
		return publicEndpoints(), nil
	}
}

func publicEndpoints() Endpoints {
	return Endpoints{
		REST:    mustParse("https://api.github.com/"),
		Upload:  mustParse("https://uploads.github.com/"),
		GraphQL: "https://api.github.com/graphql",
	}
}

func endpointsFromHost(host string) (Endpoints, error) {
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	host = strings.TrimRight(host, "/")
	if host == "" || strings.ContainsAny(host, "/?# ") {
		return Endpoints{}, fmt.Errorf("GITHUB_HOST %q is not a host name", host)
	}
	if publicHosts[strings.ToLower(host)] {
		return publicEndpoints(), nil
	}
	root := "https://" + host
	if _, err := url.Parse(root); err != nil {
		return Endpoints{}, fmt.Errorf("GITHUB_HOST %q is not a host name: %w", host, err)
	}
	return Endpoints{
		REST:    mustParse(root + "/api/v3/"),
		Upload:  mustParse(root + "/api/uploads/"),
		GraphQL: root + "/api/graphql",
	}, nil
}

func endpointsFromURL(raw string) (Endpoints, error) {
	// The raw value is never echoed into an error: it might carry credentials.
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Endpoints{}, fmt.Errorf("GITHUB_URL is not a URL: %w", err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Endpoints{}, errors.New("GITHUB_URL must not carry credentials, a query or a fragment")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Endpoints{}, fmt.Errorf("GITHUB_URL %q must be an absolute http or https URL", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	if publicHosts[strings.ToLower(u.Hostname())] {
		e := publicEndpoints()
		e.REST = u
		return e, nil
	}
	upload := *u
	if strings.HasSuffix(u.Path, "/api/v3/") {
		upload.Path = strings.TrimSuffix(u.Path, "v3/") + "uploads/"
	}
	return Endpoints{
		REST:    u,
		Upload:  &upload,
		GraphQL: u.Scheme + "://" + u.Host + "/api/graphql",
	}, nil
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("githubapi: bad built-in URL %q: %v", s, err))
	}
	return u
}
