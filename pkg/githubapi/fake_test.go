package githubapi

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// appKey returns a test RSA key (made once per test binary) and the path of
// its PEM file in a fresh temporary directory.
func appKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	path := filepath.Join(t.TempDir(), "app.pem")
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey)}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return testKey, path
}

// fakeInstallation is one installation the fake App has.
type fakeInstallation struct {
	ID    int64
	Login string
}

// fakeGitHub is a small stateful GitHub for these tests, served under
// /api/v3 like GHES. It checks App JWTs against the test key and
// installation tokens against the ones it issued.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	appID  int64
	key    *rsa.PublicKey
	token  string // accepted personal token
	user   string // login of the token's user
	slug   string // App slug
	pages  [][]fakeInstallation
	extra  http.Handler // handles everything else when set
	mu     sync.Mutex
	calls  map[string]int    // "METHOD path" -> count
	tokens map[string]string // issued installation token -> owner login
	gone   map[int64]bool    // installations whose token requests answer 404
}

func newFakeGitHub(t *testing.T, appID int64, key *rsa.PublicKey) *fakeGitHub {
	f := &fakeGitHub{t: t, appID: appID, key: key, token: "ghp_test_token_value", user: "octo-bot[bot]",
		slug: "telefonistka-test", calls: map[string]int{}, tokens: map[string]string{}, gone: map[int64]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// newFakeGHES is newFakeGitHub over TLS, reachable as GITHUB_HOST with the
// transport it returns.
func newFakeGHES(t *testing.T, appID int64, key *rsa.PublicKey) (*fakeGitHub, http.RoundTripper) {
	f := newFakeGitHub(t, appID, key)
	f.srv.Close()
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f, f.srv.Client().Transport
}

func (f *fakeGitHub) restURL() string { return f.srv.URL + "/api/v3/" }

func (f *fakeGitHub) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method+" "+path]
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.Method+" "+r.URL.Path]++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case path == "/app/installations" && r.Method == http.MethodGet:
		f.requireJWT(w, r, func() { f.listInstallations(w, r) })
	case path == "/app" && r.Method == http.MethodGet:
		f.requireJWT(w, r, func() { writeJSON(w, http.StatusOK, map[string]any{"id": f.appID, "slug": f.slug}) })
	case strings.HasPrefix(path, "/app/installations/") && strings.HasSuffix(path, "/access_tokens") && r.Method == http.MethodPost:
		f.requireJWT(w, r, func() { f.accessToken(w, path) })
	case path == "/user" && r.Method == http.MethodGet:
		login, inst, ok := f.tokenLogin(r)
		switch {
		case !ok:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		case inst: // as GitHub does for installation tokens
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"login": login})
		}
	case r.URL.Path == "/api/graphql" && r.Method == http.MethodPost && f.viewerQuery(r):
		login, _, ok := f.tokenLogin(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": login}}})
	case strings.HasPrefix(path, "/repos/") && r.Method == http.MethodGet && len(strings.Split(path, "/")) == 4:
		f.getRepo(w, r, path)
	case f.extra != nil:
		f.extra.ServeHTTP(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// tokenLogin is the login of the request's token: the personal token's
// user, or SLUG[bot] for an installation token this fake issued or was
// given (installationTokens). inst tells which.
func (f *fakeGitHub) tokenLogin(r *http.Request) (login string, inst, ok bool) {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	auth = strings.TrimPrefix(auth, "token ")
	f.mu.Lock()
	_, issued := f.tokens[auth]
	f.mu.Unlock()
	switch {
	case auth == f.token:
		return f.user, false, true
	case issued:
		return f.slug + "[bot]", true, true
	}
	return "", false, false
}

// viewerQuery reports whether the GraphQL request asks for the viewer's
// login; the body stays readable for the next handler.
func (f *fakeGitHub) viewerQuery(r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return strings.Contains(string(body), "viewer{login}")
}

func (f *fakeGitHub) requireJWT(w http.ResponseWriter, r *http.Request, next func()) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return f.key, nil })
	if !ok || err != nil || claims.Issuer != strconv.FormatInt(f.appID, 10) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
		return
	}
	next()
}

func (f *fakeGitHub) listInstallations(w http.ResponseWriter, r *http.Request) {
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	if page < 1 || page > len(f.pages) {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	if page < len(f.pages) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
	}
	out := []map[string]any{}
	for _, inst := range f.pages[page-1] {
		out = append(out, map[string]any{"id": inst.ID, "account": map[string]any{"login": inst.Login}})
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) accessToken(w http.ResponseWriter, path string) {
	idText := strings.TrimSuffix(strings.TrimPrefix(path, "/app/installations/"), "/access_tokens")
	id, _ := strconv.ParseInt(idText, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone[id] {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	for _, page := range f.pages {
		for _, inst := range page {
			if inst.ID == id {
				tok := fmt.Sprintf("ghs_installation_%d_%d", id, len(f.tokens))
				f.tokens[tok] = inst.Login
				writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": time.Now().Add(time.Hour)})
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

// getRepo answers GET /repos/{owner}/{repo} for a caller allowed on owner:
// the personal token, or a token issued for owner's installation.
func (f *fakeGitHub) getRepo(w http.ResponseWriter, r *http.Request, path string) {
	owner := strings.Split(path, "/")[2]
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	auth = strings.TrimPrefix(auth, "token ")
	f.mu.Lock()
	login, issued := f.tokens[auth]
	f.mu.Unlock()
	allowed := auth == f.token || (issued && strings.EqualFold(login, owner))
	if !allowed {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"full_name": strings.TrimPrefix(path, "/repos/"), "owner": map[string]any{"login": owner}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
