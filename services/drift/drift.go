// Package drift is the drift service. It handles what people see on open
// PRs: on pull_request opened, reopened and synchronize, and on /retrigger
// comments, it runs the open-PR checks (minimise the bot's earlier comments,
// validate changed configuration files, warn about drift between the
// environments the PR's components are promoted between) around the
// `telefonistka` commit status; it flips toggleCommitStatus contexts from
// PR comments; and it refreshes the open-PR gauges. See README.md.
package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	plancomments "github.com/telefonistka/telefonistka/pkg/plan/comments"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// Builder registers the service with pkg/app.
var Builder = app.Builder{Name: "drift", New: New}

// Service is the drift service.
type Service struct {
	cfg       Config
	conn      *bus.Conn
	pub       bus.Publisher
	clients   GitHubClients
	status    *githubapi.StatusSetter
	texts     *comments.Renderer
	planTexts *plancomments.Renderer
	runs      runStore
	states    stateStore
	leases    *lease
	metrics   *prMetrics
	files     *fileCache
	trees     *treeCache
	log       *slog.Logger
	options   func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
	now       func() time.Time
}

// New builds the service from the environment.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	gh, err := env.GitHub()
	if err != nil {
		return nil, fmt.Errorf("drift needs GitHub: %w", err)
	}
	log := env.Log.With("service", "drift")
	return NewService(ctx, Deps{
		Config:          cfg,
		Conn:            env.Conn,
		Clients:         gh,
		Status:          gh.StatusSetter(log),
		Registry:        env.Registry,
		Log:             log,
		ConsumerOptions: env.ConsumerOptions,
	})
}

// Deps are what NewService needs.
type Deps struct {
	Config Config
	Conn   *bus.Conn
	// Clients is a *githubapi.Factory.
	Clients GitHubClients
	// Status sets commit statuses (Factory.StatusSetter).
	Status   *githubapi.StatusSetter
	Registry prometheus.Registerer
	Log      *slog.Logger
	// ConsumerOptions, if set, gives the process defaults for a consumer
	// (app.Env.ConsumerOptions).
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// NewService builds the service from explicit dependencies: it loads the
// comment templates and creates its KV buckets.
func NewService(ctx context.Context, d Deps) (*Service, error) {
	cfg := d.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil || d.Clients == nil || d.Status == nil {
		return nil, errors.New("drift needs a NATS connection, GitHub clients and a status setter")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	texts, err := comments.New(cfg.TemplatesPath)
	if err != nil {
		return nil, err
	}
	planTexts, err := plancomments.New(cfg.TemplatesPath)
	if err != nil {
		return nil, err
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	runsKV, err := bus.EnsureKV(setupCtx, d.Conn.JS, events.BucketPRChecks, events.PRChecksTTL)
	if err != nil {
		return nil, err
	}
	statesKV, err := bus.EnsureKV(setupCtx, d.Conn.JS, events.BucketDriftState, events.DriftStateTTL)
	if err != nil {
		return nil, err
	}
	leasesKV, err := bus.EnsureKV(setupCtx, d.Conn.JS, events.BucketLeases, events.LeasesTTL)
	if err != nil {
		return nil, err
	}
	m, err := newPRMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering the PR metrics: %w", err)
	}
	opts := d.ConsumerOptions
	if opts == nil {
		opts = func(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
			return bus.ConsumerOptions{Spec: spec, Service: service, Log: log}
		}
	}
	return &Service{
		cfg:       cfg,
		conn:      d.Conn,
		pub:       bus.Publisher{JS: d.Conn.JS},
		clients:   d.Clients,
		status:    d.Status,
		texts:     texts,
		planTexts: planTexts,
		runs:      runStore{kv: runsKV},
		states:    stateStore{kv: statesKV},
		leases:    newLease(leasesKV, prMetricsLease),
		metrics:   m,
		files:     newFileCache(1024),
		trees:     newCache[*treediff.Tree](4),
		log:       log,
		options:   opts,
		now:       time.Now,
	}, nil
}

// Spec is the consumer of the deliveries the service handles.
func (s *Service) Spec() events.ConsumerSpec {
	return events.ConsumerSpec{
		Durable: "drift",
		Stream:  events.StreamGitHub,
		FilterSubjects: []string{
			events.GitHubFilter("pull_request", "opened"),
			events.GitHubFilter("pull_request", "reopened"),
			events.GitHubFilter("pull_request", "synchronize"),
			events.GitHubFilter("issue_comment", "created"),
		},
		MaxDeliver: s.cfg.MaxDeliver,
		AckWait:    s.cfg.AckWait,
	}
}

// Run consumes deliveries, and refreshes the PR gauges when this process
// holds the metrics lease, until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if s.cfg.PRMetricsInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.metricsLoop(ctx)
		}()
	}
	err := bus.Consume(ctx, s.conn, s.options("drift", s.Spec()), s.handle)
	cancel() // the consumer failed or ctx is done: stop the loop too
	wg.Wait()
	return err
}
