// Package argocd is the argodiff service's adapter to the Argo CD API: it
// talks to the server through argo-cd's own Go API client (gRPC, or
// grpc-web), bounds every call with a deadline, and exposes the few calls
// the service makes as plain methods.
package argocd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/applicationset"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// Options is how to reach the Argo CD API server.
type Options struct {
	// ServerAddr is host:port of the API server.
	ServerAddr string
	// Token is the bearer token; it is sent in the "token" metadata key and
	// never logged.
	Token string
	// PlainText disables TLS; Insecure skips certificate verification.
	PlainText, Insecure bool
	// GRPCWeb uses grpc-web over HTTP/1.1 instead of gRPC.
	GRPCWeb bool
	// CallTimeout bounds each call (the connection included).
	CallTimeout time.Duration
}

// Client is a connection to one Argo CD API server. It connects on first
// use and keeps the connections; it is safe for concurrent use.
type Client struct {
	opts Options

	mu       sync.Mutex
	conns    *conns
	dialing  chan struct{} // closed when the current dial ends
	dialErr  error
	closeAll []io.Closer
}

type conns struct {
	apps    application.ApplicationServiceClient
	appSets applicationset.ApplicationSetServiceClient
	set     settings.SettingsServiceClient
}

// New returns a client; nothing is dialled until the first call.
func New(opts Options) *Client {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Minute
	}
	return &Client{opts: opts}
}

// ErrUnavailable wraps failures to reach the server.
var ErrUnavailable = errors.New("the Argo CD API server is unavailable")

// connect returns the service clients, dialling once. argo-cd's client dials
// in a blocking way without a deadline, so the dial runs in the background
// and a caller waits at most until its context ends; a failed dial is tried
// again by the next call.
func (c *Client) connect(ctx context.Context) (*conns, error) {
	c.mu.Lock()
	if c.conns != nil {
		defer c.mu.Unlock()
		return c.conns, nil
	}
	if c.dialing == nil {
		done := make(chan struct{})
		c.dialing = done
		go c.dial(done)
	}
	wait := c.dialing
	c.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: connecting to %s: %w", ErrUnavailable, c.opts.ServerAddr, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns != nil {
		return c.conns, nil
	}
	return nil, c.dialErr
}

func (c *Client) dial(done chan struct{}) {
	cs, closers, err := c.open()
	c.mu.Lock()
	if err != nil {
		c.dialErr = fmt.Errorf("%w: connecting to %s: %w", ErrUnavailable, c.opts.ServerAddr, err)
	} else {
		c.conns, c.closeAll, c.dialErr = cs, closers, nil
	}
	c.dialing = nil
	c.mu.Unlock()
	close(done)
}

func (c *Client) open() (*conns, []io.Closer, error) {
	api, err := apiclient.NewClient(&apiclient.ClientOptions{
		ServerAddr: c.opts.ServerAddr,
		AuthToken:  c.opts.Token,
		PlainText:  c.opts.PlainText,
		Insecure:   c.opts.Insecure,
		GRPCWeb:    c.opts.GRPCWeb,
		// A path that does not exist: the local argocd CLI configuration
		// of whoever runs the process is never read.
		ConfigPath: filepath.Join(os.TempDir(), "telefonistka-argocd-no-config", "config"),
		UserAgent:  "telefonistka",
	})
	if err != nil {
		return nil, nil, err
	}
	var closers []io.Closer
	fail := func(err error) (*conns, []io.Closer, error) {
		for _, cl := range closers {
			_ = cl.Close()
		}
		return nil, nil, err
	}
	var cs conns
	cl, apps, err := api.NewApplicationClient()
	if err != nil {
		return fail(err)
	}
	closers = append(closers, cl)
	cl, appSets, err := api.NewApplicationSetClient()
	if err != nil {
		return fail(err)
	}
	closers = append(closers, cl)
	cl, set, err := api.NewSettingsClient()
	if err != nil {
		return fail(err)
	}
	closers = append(closers, cl)
	cs.apps, cs.appSets, cs.set = apps, appSets, set
	return &cs, closers, nil
}

// Close closes the connections.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cl := range c.closeAll {
		errs = append(errs, cl.Close())
	}
	c.conns, c.closeAll = nil, nil
	return errors.Join(errs...)
}

// call runs one API call under the call deadline.
func call[T any](ctx context.Context, c *Client, what string, f func(context.Context, *conns) (T, error)) (T, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	cs, err := c.connect(ctx)
	if err != nil {
		return zero, classify(err)
	}
	out, err := f(ctx, cs)
	if err != nil {
		return zero, classify(fmt.Errorf("%s: %w", what, err))
	}
	return out, nil
}

// App identifies an application.
type App struct{ Name, Namespace string }

func (a App) String() string {
	if a.Namespace == "" {
		return a.Name
	}
	return a.Namespace + "/" + a.Name
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ListApps lists the applications whose source is repoURL (the server's
// repository filter), restricted to those matching selector when it is not
// empty.
func (c *Client) ListApps(ctx context.Context, repoURL, selector string) ([]v1alpha1.Application, error) {
	return call(ctx, c, "listing Argo CD applications", func(ctx context.Context, cs *conns) ([]v1alpha1.Application, error) {
		l, err := cs.apps.List(ctx, &application.ApplicationQuery{Repo: strp(repoURL), Selector: strp(selector)})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}

// GetApp reads an application; hardRefresh asks Argo CD to regenerate its
// manifests and compare again first.
func (c *Client) GetApp(ctx context.Context, app App, hardRefresh bool) (*v1alpha1.Application, error) {
	q := &application.ApplicationQuery{Name: strp(app.Name), AppNamespace: strp(app.Namespace)}
	if hardRefresh {
		q.Refresh = strp(string(v1alpha1.RefreshTypeHard))
	}
	return call(ctx, c, "reading Argo CD application "+app.String(), func(ctx context.Context, cs *conns) (*v1alpha1.Application, error) {
		return cs.apps.Get(ctx, q)
	})
}

// ManagedResources returns the application's managed resources with their
// live state.
func (c *Client) ManagedResources(ctx context.Context, app App) ([]*v1alpha1.ResourceDiff, error) {
	return call(ctx, c, "reading the resources of Argo CD application "+app.String(), func(ctx context.Context, cs *conns) ([]*v1alpha1.ResourceDiff, error) {
		r, err := cs.apps.ManagedResources(ctx, &application.ResourcesQuery{ApplicationName: strp(app.Name), AppNamespace: strp(app.Namespace)})
		if err != nil {
			return nil, err
		}
		return r.Items, nil
	})
}

// Manifests returns the manifests (JSON) Argo CD renders for the
// application at revision.
func (c *Client) Manifests(ctx context.Context, app App, project, revision string) ([]string, error) {
	return call(ctx, c, "rendering the manifests of Argo CD application "+app.String()+" at "+revision, func(ctx context.Context, cs *conns) ([]string, error) {
		r, err := cs.apps.GetManifests(ctx, &application.ApplicationManifestQuery{
			Name: strp(app.Name), AppNamespace: strp(app.Namespace), Project: strp(project), Revision: strp(revision),
		})
		if err != nil {
			return nil, err
		}
		return r.Manifests, nil
	})
}

// CreateApp creates an application without validating it.
func (c *Client) CreateApp(ctx context.Context, a *v1alpha1.Application) (*v1alpha1.Application, error) {
	validate := false
	return call(ctx, c, "creating Argo CD application "+a.Name, func(ctx context.Context, cs *conns) (*v1alpha1.Application, error) {
		return cs.apps.Create(ctx, &application.ApplicationCreateRequest{Application: a, Validate: &validate})
	})
}

// DeleteApp deletes an application without cascading to its resources.
func (c *Client) DeleteApp(ctx context.Context, app App) error {
	cascade := false
	_, err := call(ctx, c, "deleting Argo CD application "+app.String(), func(ctx context.Context, cs *conns) (*application.ApplicationResponse, error) {
		return cs.apps.Delete(ctx, &application.ApplicationDeleteRequest{Name: strp(app.Name), AppNamespace: strp(app.Namespace), Cascade: &cascade})
	})
	return err
}

// MergePatchApp applies a JSON merge patch to an application.
func (c *Client) MergePatchApp(ctx context.Context, app App, patch string) (*v1alpha1.Application, error) {
	kind := "merge"
	return call(ctx, c, "patching Argo CD application "+app.String(), func(ctx context.Context, cs *conns) (*v1alpha1.Application, error) {
		return cs.apps.Patch(ctx, &application.ApplicationPatchRequest{Name: strp(app.Name), AppNamespace: strp(app.Namespace), Patch: &patch, PatchType: &kind})
	})
}

// Settings reads the server's settings (URL, resource overrides, tracking).
func (c *Client) Settings(ctx context.Context) (*settings.Settings, error) {
	return call(ctx, c, "reading the Argo CD settings", func(ctx context.Context, cs *conns) (*settings.Settings, error) {
		return cs.set.Get(ctx, &settings.SettingsQuery{})
	})
}

// ListAppSets lists the ApplicationSets.
func (c *Client) ListAppSets(ctx context.Context) ([]v1alpha1.ApplicationSet, error) {
	return call(ctx, c, "listing Argo CD ApplicationSets", func(ctx context.Context, cs *conns) ([]v1alpha1.ApplicationSet, error) {
		l, err := cs.appSets.List(ctx, &applicationset.ApplicationSetListQuery{})
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	})
}
