package githubapi

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-github/v52/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shurcooL/githubv4"
)

// Options are the Factory's collaborators; the zero value works.
type Options struct {
	// Registerer receives the metrics when Metrics is nil. Nil means the
	// metrics are not registered anywhere.
	Registerer prometheus.Registerer
	// Metrics, if set, are used as they are (one set shared by several factories).
	Metrics *Metrics
	// Transport is the base HTTP transport; nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Clock paces writes; nil means the wall clock.
	Clock Clock
	// Budget paces the calls of every identity; nil means a Pacer of this
	// process with the configured rate and burst. Pass a SharedBudget to
	// share one budget between replicas. The caller closes it.
	Budget Budget
}

// Factory builds GitHub clients for the main and approver identities. It
// is safe for concurrent use; share one per process.
type Factory struct {
	cfg       Config
	endpoints Endpoints
	base      http.RoundTripper
	metrics   *Metrics
	budget    Budget
	clock     Clock

	main *identity

	approverMu sync.Mutex
	approver   *identity

	botMu    sync.Mutex
	botLogin string
}

// identity is one set of credentials: a token, or a GitHub App key.
type identity struct {
	f     *Factory
	name  string
	token Secret
	appID int64
	key   *rsa.PrivateKey

	appOnce sync.Once
	app     *github.Client // authenticated as the App itself

	listMu        sync.Mutex // serialises installation listings
	mu            sync.Mutex
	installations map[string]installation // by lower-case account login
	owners        map[string]*ownerClients
}

// ownerClients are the clients of one identity for one repo owner.
type ownerClients struct {
	rest *github.Client
	gql  *githubv4.Client
}

// NewFactory checks cfg, reads the main App key if any, and returns a
// Factory. It makes no network call.
func NewFactory(cfg Config, opts Options) (*Factory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	endpoints, err := cfg.Endpoints()
	if err != nil {
		return nil, err
	}
	f := &Factory{
		cfg:       cfg,
		endpoints: endpoints,
		base:      opts.Transport,
		metrics:   opts.Metrics,
		budget:    opts.Budget,
		clock:     opts.Clock,
	}
	if f.clock == nil {
		f.clock = wallClock{}
	}
	if f.budget == nil {
		f.budget = NewPacer(float64(cfg.WriteRate), int(cfg.WriteBurst), f.clock)
	}
	if f.base == nil {
		f.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	f.base = traced(f.base)
	if f.metrics == nil {
		if f.metrics, err = NewMetrics(opts.Registerer); err != nil {
			return nil, err
		}
	}
	if opts.Registerer != nil {
		if _, err := register(opts.Registerer, prometheus.Collector(newBudgetCollector(f.budget))); err != nil {
			return nil, err
		}
	}
	f.main, err = f.newIdentity("main", cfg.OAuthToken, int64(cfg.AppID), cfg.AppPrivateKeyPath)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Factory) newIdentity(name string, token Secret, appID int64, keyPath string) (*identity, error) {
	id := &identity{f: f, name: name, token: token, appID: appID,
		installations: map[string]installation{}, owners: map[string]*ownerClients{}}
	if appID == 0 {
		return id, nil
	}
	key, err := readAppKey(keyPath)
	if err != nil {
		return nil, &CredentialsError{Identity: name, Reason: "unusable GitHub App key", Err: err}
	}
	id.key = key
	return id, nil
}

// Endpoints are the resolved API addresses.
func (f *Factory) Endpoints() Endpoints { return f.endpoints }

// Metrics are the metrics this Factory records (commit status updates included).
func (f *Factory) Metrics() *Metrics { return f.metrics }

// IsApp reports whether the main identity is a GitHub App.
func (f *Factory) IsApp() bool { return f.main.appID != 0 }

// ForOwner returns the main identity's REST client for repos of owner.
// With App auth it uses the installation on the account named owner.
func (f *Factory) ForOwner(ctx context.Context, owner string) (*github.Client, error) {
	c, err := f.main.clientsFor(ctx, owner)
	if err != nil {
		return nil, err
	}
	return c.rest, nil
}

// GraphQLForOwner returns the main identity's GraphQL client for repos of owner.
func (f *Factory) GraphQLForOwner(ctx context.Context, owner string) (*githubv4.Client, error) {
	c, err := f.main.clientsFor(ctx, owner)
	if err != nil {
		return nil, err
	}
	return c.gql, nil
}

// ApproverForOwner returns the approver identity's REST client for repos
// of owner. The identity is built on first use; if its credentials are
// missing or broken the error wraps ErrApproverUnavailable and is permanent.
func (f *Factory) ApproverForOwner(ctx context.Context, owner string) (*github.Client, error) {
	id, err := f.approverIdentity()
	if err != nil {
		return nil, err
	}
	c, err := id.clientsFor(ctx, owner)
	if err != nil {
		return nil, err
	}
	return c.rest, nil
}

func (f *Factory) approverIdentity() (*identity, error) {
	f.approverMu.Lock()
	defer f.approverMu.Unlock()
	if f.approver != nil {
		return f.approver, nil
	}
	c := f.cfg
	unavailable := func(reason string) error {
		return &CredentialsError{Identity: "approver", Reason: reason, Err: ErrApproverUnavailable}
	}
	switch {
	case !c.approverConfigured():
		return nil, unavailable("no credentials: set APPROVER_GITHUB_OAUTH_TOKEN, or APPROVER_GITHUB_APP_ID and APPROVER_GITHUB_APP_PRIVATE_KEY_PATH")
	case c.ApproverAppID != 0 && c.ApproverAppPrivateKeyPath == "":
		return nil, unavailable("APPROVER_GITHUB_APP_ID is set but APPROVER_GITHUB_APP_PRIVATE_KEY_PATH is empty")
	case c.ApproverAppID == 0 && c.ApproverAppPrivateKeyPath != "" && !c.ApproverOAuthToken.IsSet():
		return nil, unavailable("APPROVER_GITHUB_APP_PRIVATE_KEY_PATH is set but APPROVER_GITHUB_APP_ID is empty")
	}
	id, err := f.newIdentity("approver", c.ApproverOAuthToken, int64(c.ApproverAppID), c.ApproverAppPrivateKeyPath)
	if err != nil {
		return nil, unavailable(fmt.Sprintf("unusable GitHub App key (%v)", err))
	}
	f.approver = id
	return id, nil
}

// BotLogin is the main identity's login without a trailing "[bot]": the
// App's slug with App auth (GET /app), the token's login otherwise. The
// token's login comes from GraphQL's viewer, which answers for personal
// tokens and installation tokens alike (a GitHub Actions GITHUB_TOKEN is an
// installation token, and GitHub refuses GET /user to those). It is looked
// up once; failures are not cached.
func (f *Factory) BotLogin(ctx context.Context) (string, error) {
	f.botMu.Lock()
	defer f.botMu.Unlock()
	if f.botLogin != "" {
		return f.botLogin, nil
	}
	var login string
	if f.IsApp() {
		app, _, err := f.main.appClient().Apps.Get(ctx, "")
		if err != nil {
			return "", Classify(fmt.Errorf("looking up the GitHub App's slug: %w", err))
		}
		login = app.GetSlug()
	} else {
		tr := &graphQLErrors{next: &tokenTransport{token: f.main.token, next: f.instrument("", f.base)}}
		gql := githubv4.NewEnterpriseClient(f.endpoints.GraphQL, &http.Client{Transport: tr})
		var q struct {
			Viewer struct{ Login string }
		}
		if err := gql.Query(ctx, &q, nil); err != nil {
			return "", Classify(fmt.Errorf("looking up the token's login (GraphQL viewer): %w", err))
		}
		login = q.Viewer.Login
	}
	login = strings.TrimSuffix(login, "[bot]")
	if login == "" {
		return "", fmt.Errorf("looking up the bot login: GitHub returned an empty login")
	}
	f.botLogin = login
	return login, nil
}

// InstallationOwners lists the account logins (as GitHub spells them) of
// every installation of the main App (all pages), sorted. With token auth it returns nil.
func (f *Factory) InstallationOwners(ctx context.Context) ([]string, error) {
	if !f.IsApp() {
		return nil, nil
	}
	found, err := f.main.listInstallations(ctx)
	if err != nil {
		return nil, Classify(err)
	}
	f.main.rememberInstallations(found)
	owners := make([]string, 0, len(found))
	for _, inst := range found {
		owners = append(owners, inst.Login)
	}
	sort.Strings(owners)
	return owners, nil
}

// clientsFor returns (and caches) the clients of one owner.
func (id *identity) clientsFor(ctx context.Context, owner string) (*ownerClients, error) {
	if owner == "" {
		return nil, &PermanentError{Message: "empty repository owner", Err: fmt.Errorf("building a github client: empty repository owner")}
	}
	key := strings.ToLower(owner)
	id.mu.Lock()
	c, ok := id.owners[key]
	id.mu.Unlock()
	if ok {
		return c, nil
	}
	var auth http.RoundTripper
	var paceKey string
	if id.appID == 0 {
		auth = &tokenTransport{token: id.token, next: id.f.instrument(owner, id.f.base)}
		paceKey = TokenBudgetKey(id.token)
	} else {
		instID, err := id.installationFor(ctx, owner)
		if err != nil {
			return nil, err
		}
		forget := func() { id.forget(key) }
		auth = id.installationTransport(instID, id.f.instrument(owner, id.f.base), forget)
		paceKey = InstallationBudgetKey(id.appID, instID)
	}
	paced := BudgetTransport(id.f.budget, id.f.clock, paceKey, auth)
	c = &ownerClients{
		rest: id.f.newREST(paced),
		gql:  githubv4.NewEnterpriseClient(id.f.endpoints.GraphQL, &http.Client{Transport: &graphQLErrors{next: paced}}),
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	if existing, ok := id.owners[key]; ok {
		return existing, nil
	}
	id.owners[key] = c
	return c, nil
}

// installationFor finds the installation on the account owner (case
// insensitive), listing all installations when it is not cached.
func (id *identity) installationFor(ctx context.Context, owner string) (int64, error) {
	key := strings.ToLower(owner)
	id.mu.Lock()
	inst, ok := id.installations[key]
	id.mu.Unlock()
	if ok {
		return inst.ID, nil
	}
	// One listing at a time: callers queued behind it find its result.
	id.listMu.Lock()
	defer id.listMu.Unlock()
	id.mu.Lock()
	inst, ok = id.installations[key]
	id.mu.Unlock()
	if ok {
		return inst.ID, nil
	}
	found, err := id.listInstallations(ctx)
	if err != nil {
		return 0, Classify(err)
	}
	id.rememberInstallations(found)
	inst, ok = found[key]
	if !ok {
		return 0, &NoInstallationError{AppID: id.appID, Owner: owner}
	}
	return inst.ID, nil
}

func (id *identity) rememberInstallations(found map[string]installation) {
	id.mu.Lock()
	defer id.mu.Unlock()
	for key, inst := range found {
		if old, ok := id.installations[key]; ok && old.ID != inst.ID {
			delete(id.owners, key) // reinstalled: the cached clients use the old installation
		}
		id.installations[key] = inst
	}
}

// forget drops what is cached for an owner whose installation is gone.
func (id *identity) forget(key string) {
	id.mu.Lock()
	defer id.mu.Unlock()
	delete(id.installations, key)
	delete(id.owners, key)
}

// instrument wraps next with the metrics of owner's calls.
func (f *Factory) instrument(owner string, next http.RoundTripper) http.RoundTripper {
	return &instrumentedTransport{next: next, metrics: f.metrics, owner: owner}
}

// newREST returns a go-github client on tr aimed at the configured endpoints.
func (f *Factory) newREST(tr http.RoundTripper) *github.Client {
	c := github.NewClient(&http.Client{Transport: tr})
	rest, upload := *f.endpoints.REST, *f.endpoints.Upload
	c.BaseURL, c.UploadURL = &rest, &upload
	return c
}
