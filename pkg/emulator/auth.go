package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// identity is who a request acts as.
type identity struct {
	key  string // rate-limit bucket
	user *user  // nil when authenticated as an app (JWT)
	app  *App   // set for app JWTs and installation tokens
	inst *installation
}

type installation struct {
	ID        int64
	app       *App
	account   *user
	createdAt time.Time
}

type instToken struct {
	inst    *installation
	expires time.Time
}

type authState struct {
	e        *Emulator
	mu       sync.RWMutex
	tokens   map[string]string // token -> login
	open     bool              // no tokens configured: accept everything
	apps     map[int64]*App
	appOrder []*App
	insts    map[int64]*installation
	byOwner  map[string]*installation // "appID/owner" (lower case)
	issued   map[string]instToken
}

func newAuthState(e *Emulator, opts Options) (*authState, error) {
	a := &authState{
		e: e, tokens: map[string]string{}, open: len(opts.Tokens) == 0,
		apps: map[int64]*App{}, insts: map[int64]*installation{},
		byOwner: map[string]*installation{}, issued: map[string]instToken{},
	}
	for tok, login := range opts.Tokens {
		if tok == "" || login == "" {
			return nil, errors.New("tokens need a non-empty token and login")
		}
		a.tokens[tok] = login
	}
	for i := range opts.Apps {
		app := opts.Apps[i]
		if app.ID <= 0 || app.Slug == "" {
			return nil, fmt.Errorf("app %d needs a positive ID and a slug", i)
		}
		if app.Name == "" {
			app.Name = app.Slug
		}
		if _, dup := a.apps[app.ID]; dup {
			return nil, fmt.Errorf("app ID %d configured twice", app.ID)
		}
		a.apps[app.ID] = &app
		a.appOrder = append(a.appOrder, &app)
	}
	return a, nil
}

func (a *authState) addToken(token, login string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[token] = login
	a.open = false
}

// installationFor returns app's installation on owner, installing it on first use.
func (a *authState) installationFor(app *App, owner *user) *installation {
	key := strconv.FormatInt(app.ID, 10) + "/" + strings.ToLower(owner.Login)
	a.mu.Lock()
	defer a.mu.Unlock()
	if in, ok := a.byOwner[key]; ok {
		return in
	}
	in := &installation{ID: a.e.newID(), app: app, account: owner, createdAt: now()}
	a.byOwner[key] = in
	a.insts[in.ID] = in
	return in
}

func (a *authState) installations(app *App) []*installation {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []*installation
	for _, in := range a.insts {
		if in.app == app {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (a *authState) installation(id int64) (*installation, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	in, ok := a.insts[id]
	return in, ok
}

// issueToken mints an installation access token valid for an hour.
func (a *authState) issueToken(in *installation) (string, time.Time) {
	var b [20]byte
	_, _ = rand.Read(b[:])
	tok := "ghs_" + hex.EncodeToString(b[:])
	exp := now().Add(time.Hour)
	a.mu.Lock()
	a.issued[tok] = instToken{in, exp}
	a.mu.Unlock()
	return tok, exp
}

var errBadCredentials = &apiError{Status: http.StatusUnauthorized, Message: "Bad credentials"}

// authenticate maps the Authorization header to an identity.
func (a *authState) authenticate(r *http.Request) (*identity, *apiError) {
	tok := credential(r.Header.Get("Authorization"))
	if looksLikeJWT(tok) {
		return a.authenticateJWT(tok)
	}
	a.mu.RLock()
	it, isInst := a.issued[tok]
	login, isUser := a.tokens[tok]
	open := a.open
	a.mu.RUnlock()
	switch {
	case isInst:
		if now().After(it.expires) {
			return nil, errBadCredentials
		}
		return &identity{key: "inst:" + strconv.FormatInt(it.inst.ID, 10),
			user: a.e.users.get(it.inst.app.Slug + "[bot]"), app: it.inst.app, inst: it.inst}, nil
	case isUser:
		return &identity{key: "user:" + login, user: a.e.users.get(login)}, nil
	case open:
		if tok == "" {
			return &identity{key: "anonymous", user: a.e.users.get(a.e.opts.DefaultLogin)}, nil
		}
		return &identity{key: "token:" + tok, user: a.e.users.get(a.e.opts.DefaultLogin)}, nil
	}
	if tok == "" {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "Requires authentication"}
	}
	return nil, errBadCredentials
}

func credential(header string) string {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(rest)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return ""
		}
		_, pass, _ := strings.Cut(string(raw), ":")
		return pass
	}
	return ""
}

func looksLikeJWT(tok string) bool {
	return strings.Count(tok, ".") == 2 && strings.HasPrefix(tok, "eyJ")
}

var errBadJWT = &apiError{Status: http.StatusUnauthorized, Message: "A JSON web token could not be decoded"}

func (a *authState) authenticateJWT(tok string) (*identity, *apiError) {
	parts := strings.Split(tok, ".")
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
	}
	if decodeSegment(parts[0], &header) != nil || decodeSegment(parts[1], &claims) != nil {
		return nil, errBadJWT
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	appID, err := strconv.ParseInt(iss, 10, 64)
	if err != nil {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "'Issuer' claim ('iss') must be an Integer"}
	}
	t := time.Now().Unix()
	if claims.Exp == 0 || claims.Exp < t-60 {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "'Expiration time' claim ('exp') is too far in the future or expired"}
	}
	if claims.Iat > t+60 {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "'Issued at' claim ('iat') must be an Integer representing a time in the past."}
	}
	app, ok := a.apps[appID]
	if !ok {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "Integration not found"}
	}
	if app.PublicKey != nil && !verifyRS256(app.PublicKey, parts, header.Alg) {
		return nil, &apiError{Status: http.StatusUnauthorized, Message: "A JSON web token could not be decoded"}
	}
	return &identity{key: "app:" + iss, app: app}, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func verifyRS256(pub *rsa.PublicKey, parts []string, alg string) bool {
	if alg != "RS256" {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}
