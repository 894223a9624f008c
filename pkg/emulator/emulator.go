// Package emulator is a GitHub emulator backed by real git repositories (go-git). go-github
// and githubv4 clients talk to it unchanged; tests start it in-process and use its Go API to
// act as people and to inspect the result, and the github-emulator command runs it
// standalone. See README.md for the routes and the /_emulator/ test controls.
package emulator

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator/internal/webhook"
)

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Listen is the address Start listens on; empty means 127.0.0.1:0 (a random port).
	Listen string
	// Tokens maps each accepted token to the login it authenticates as. When empty, every
	// request is accepted and acts as DefaultLogin; otherwise a request without a valid
	// token gets 401.
	Tokens map[string]string
	// DefaultLogin is the identity of requests in open mode (no Tokens). Default "octocat".
	DefaultLogin string
	// Apps are the GitHub Apps whose JWTs are accepted. Default: one app, ID 1, slug
	// "telefonistka". Each app is installed on every repository owner.
	Apps []App
	// WebhookURL and WebhookSecret configure webhook deliveries (changeable with SetWebhook).
	WebhookURL, WebhookSecret string
	// DataDir keeps repositories and state on disk; empty keeps everything in memory.
	DataDir string
	// HTMLURL is the web root used in html_url fields. Default "https://github.com".
	HTMLURL string
	// PublicURL is the server root used in API url fields when the emulator is served
	// through Handler instead of Start (e.g. "http://127.0.0.1:8080").
	PublicURL string
	// RateLimit is the hourly request budget reported per identity. Default 5000.
	RateLimit int
	// EnforceRateLimit makes an exhausted budget answer 403 like GitHub; otherwise the
	// window simply restarts so clients never see Remaining reach 0.
	EnforceRateLimit bool
	// DeliveryLogSize caps the webhook delivery log. Default 2000.
	DeliveryLogSize int
	// Logger receives request and delivery logs. Default: discard.
	Logger *slog.Logger
}

// App is a GitHub App known to the emulator.
type App struct {
	ID   int64
	Slug string
	Name string
	// PublicKey, when set, is used to verify the app's JWTs (RS256); otherwise any
	// well-formed, unexpired JWT whose issuer is the app's ID is accepted.
	PublicKey *rsa.PublicKey
}

// Emulator is a running (or startable) GitHub emulator. It is safe for concurrent use.
type Emulator struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	mu    sync.RWMutex
	repos map[string]*repo // by lower-case "owner/name"

	users  *userDir
	auth   *authState
	hooks  *webhook.Dispatcher
	ctl    *controls
	writes *writeWindow
	ids    atomic.Int64

	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	rootURL string // e.g. http://127.0.0.1:1234
	persist *persister

	fragments *byteCache[fragmentKey]
}

// New builds an emulator (and, with DataDir, loads the state kept there).
func New(opts Options) (*Emulator, error) {
	if opts.DefaultLogin == "" {
		opts.DefaultLogin = "octocat"
	}
	if len(opts.Apps) == 0 {
		opts.Apps = []App{{ID: 1, Slug: "telefonistka"}}
	}
	if opts.HTMLURL == "" {
		opts.HTMLURL = "https://github.com"
	}
	opts.HTMLURL = strings.TrimRight(opts.HTMLURL, "/")
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Emulator{
		opts:    opts,
		log:     log,
		started: time.Now().UTC(),
		repos:   map[string]*repo{},
		users:   newUserDir(),
		ctl:     newControls(),
		writes:  newWriteWindow(),
		rootURL: strings.TrimRight(opts.PublicURL, "/"),

		fragments: newByteCache[fragmentKey](256 << 20),
	}
	e.ids.Store(1000)
	e.hooks = webhook.New(nil, opts.DeliveryLogSize)
	e.hooks.Configure(opts.WebhookURL, opts.WebhookSecret)
	auth, err := newAuthState(e, opts)
	if err != nil {
		e.hooks.Close()
		return nil, err
	}
	e.auth = auth
	e.handler = e.routes()
	if opts.DataDir != "" {
		if e.persist, err = newPersister(e, opts.DataDir); err != nil {
			e.hooks.Close()
			return nil, err
		}
	}
	return e, nil
}

// Start listens on Options.Listen and serves in the background.
func (e *Emulator) Start() error {
	addr := e.opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	e.ln = ln
	if e.opts.PublicURL == "" {
		e.rootURL = "http://" + ln.Addr().String()
	}
	e.srv = &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("emulator server stopped", "error", err)
		}
	}()
	return nil
}

// Close stops the server and the webhook dispatcher and flushes state to disk.
func (e *Emulator) Close() error {
	var err error
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = e.srv.Shutdown(ctx)
		cancel()
	}
	e.hooks.Close()
	if e.persist != nil {
		if perr := e.persist.saveAll(); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// Handler serves the emulator (REST, GraphQL and /_emulator/ controls).
func (e *Emulator) Handler() http.Handler { return e.handler }

// Addr returns the listening address after Start.
func (e *Emulator) Addr() string {
	if e.ln == nil {
		return ""
	}
	return e.ln.Addr().String()
}

// URL is the REST base URL for go-github, ending in "/api/v3/".
func (e *Emulator) URL() string { return e.rootURL + "/api/v3/" }

// GraphQLURL is the GraphQL endpoint.
func (e *Emulator) GraphQLURL() string { return e.rootURL + "/api/graphql" }

// apiURL is the root of url fields in responses.
func (e *Emulator) apiURL() string { return e.rootURL + "/api/v3" }

// SetWebhook sets (or, with an empty url, clears) the webhook receiver and secret.
func (e *Emulator) SetWebhook(url, secret string) { e.hooks.Configure(url, secret) }

// AddToken accepts token as login from now on.
func (e *Emulator) AddToken(token, login string) { e.auth.addToken(token, login) }

// InstallationToken mints a one-hour installation access token for the app
// appID on owner's account, as POST /app/installations/{id}/access_tokens
// does: it acts as SLUG[bot] on owner's repositories only, and GET /user
// refuses it. A GitHub Actions GITHUB_TOKEN is such a token (of the
// github-actions app). owner must own a repository.
func (e *Emulator) InstallationToken(appID int64, owner string) (string, error) {
	e.auth.mu.RLock()
	app, ok := e.auth.apps[appID]
	e.auth.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("app %d: %w", appID, ErrNotFound)
	}
	account, ok := e.users.find(owner)
	if !ok {
		return "", fmt.Errorf("account %s: %w", owner, ErrNotFound)
	}
	tok, _ := e.auth.issueToken(e.auth.installationFor(app, account))
	return tok, nil
}

// WaitWebhooks blocks until every queued webhook delivery has been attempted.
func (e *Emulator) WaitWebhooks(ctx context.Context) error { return e.hooks.Wait(ctx) }

func (e *Emulator) newID() int64 { return e.ids.Add(1) }

func (e *Emulator) repo(owner, name string) (*repo, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r, ok := e.repos[strings.ToLower(owner+"/"+name)]
	return r, ok
}

func (e *Emulator) repoByFullName(full string) (*repo, error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok {
		return nil, fmt.Errorf("repository %q is not owner/name", full)
	}
	r, ok := e.repo(owner, name)
	if !ok {
		return nil, fmt.Errorf("repository %s does not exist", full)
	}
	return r, nil
}

func (e *Emulator) allRepos() []*repo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*repo, 0, len(e.repos))
	for _, r := range e.repos {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
