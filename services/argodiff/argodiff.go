// Package argodiff is the argodiff service (SPEC §7): on open PRs of
// repositories that set argocd.commentDiffonPR it comments, per component,
// the diff between the live Argo CD application and the manifests at the
// PR head, computed with Argo CD's own diff code; it takes part in the PR's
// `telefonistka` commit status, labels no-diff PRs `noop` and merges
// no-diff promotion PRs (autoMergeNoDiffPRs); it deploys the PR branch
// when the comment's checkbox is ticked, and points the applications back
// at HEAD when the PR closes. See README.md.
package argodiff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/prcheck"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/comment"
)

// Builder registers the service with pkg/app.
var Builder = app.Builder{Name: "argodiff", New: New}

// Service is the argodiff service.
type Service struct {
	cfg     Config
	conn    *bus.Conn
	pub     bus.Publisher
	gh      GitHubClients
	api     GitHub
	argo    ArgoCD // nil: no Argo CD connection configured
	texts   *comment.Renderer
	runs    prcheck.Store
	files   *githubapi.Cache[fileEntry]
	log     *slog.Logger
	options func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
	now     func() time.Time
}

// New builds the service from the environment. Without ARGOCD_SERVER_ADDR
// and ARGOCD_TOKEN it runs without an Argo CD connection: repositories that
// ask for diffs get a comment saying so.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	gh, err := env.GitHub()
	if err != nil {
		return nil, fmt.Errorf("argodiff needs GitHub: %w", err)
	}
	log := env.Log.With("service", "argodiff")
	var argo ArgoCD
	if cfg.Connected {
		argo = argocd.New(argocd.Options{
			ServerAddr: cfg.ServerAddr, Token: cfg.Token, PlainText: cfg.PlainText, Insecure: cfg.Insecure,
			GRPCWeb: cfg.GRPCWeb, CallTimeout: cfg.CallTimeout,
		})
	} else {
		log.Warn("no Argo CD connection configured (ARGOCD_SERVER_ADDR, ARGOCD_TOKEN): PRs asking for Argo CD diffs get a comment saying so")
	}
	return NewService(ctx, Deps{
		Config: cfg, Conn: env.Conn, Clients: gh, Status: gh.StatusSetter(log), ArgoCD: argo,
		Log: log, ConsumerOptions: env.ConsumerOptions,
	})
}

// Deps are what NewService needs.
type Deps struct {
	Config  Config
	Conn    *bus.Conn
	Clients GitHubClients
	Status  *githubapi.StatusSetter
	// ArgoCD is the Argo CD API (nil: no connection).
	ArgoCD          ArgoCD
	Log             *slog.Logger
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// NewService builds the service from explicit dependencies.
func NewService(ctx context.Context, d Deps) (*Service, error) {
	cfg := d.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil || d.Clients == nil || d.Status == nil {
		return nil, errors.New("argodiff needs a NATS connection, GitHub clients and a status setter")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	texts, err := comment.New(cfg.TemplatesPath)
	if err != nil {
		return nil, err
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	runs, err := prcheck.Open(setupCtx, d.Conn)
	if err != nil {
		return nil, err
	}
	opts := bus.ConsumerDefaults(d.ConsumerOptions).Or(log)
	return &Service{
		cfg: cfg, conn: d.Conn, pub: bus.Publisher{JS: d.Conn.JS}, gh: d.Clients, api: githubapi.NewGitHub(d.Clients, d.Status),
		argo: d.ArgoCD, texts: texts, runs: runs, files: githubapi.NewCache[fileEntry](1024), log: log,
		options: opts, now: time.Now,
	}, nil
}

// Spec is the consumer of the deliveries the service handles.
func (s *Service) Spec() events.ConsumerSpec {
	spec := events.Consumer(events.ConsumerArgoDiff)
	spec.MaxDeliver, spec.AckWait = s.cfg.MaxDeliver, s.cfg.AckWait
	return spec
}

// Run consumes deliveries until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	err := bus.Consume(ctx, s.conn, s.options("argodiff", s.Spec()), s.handle)
	if c, ok := s.argo.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	return err
}

// checkers is the expected set of a run argodiff takes part in:
// TELEFONISTKA_PR_CHECKERS when set, else drift and argodiff.
func (s *Service) checkers() []string {
	if len(s.cfg.Checkers) > 0 {
		return s.cfg.Checkers
	}
	return []string{events.CheckerDrift, Checker}
}

// expectedByDefault reports whether TELEFONISTKA_PR_CHECKERS names argodiff,
// so it reports on every run, also of repositories without Argo CD diffs.
func (s *Service) expectedByDefault() bool {
	for _, c := range s.cfg.Checkers {
		if c == Checker {
			return true
		}
	}
	return false
}
