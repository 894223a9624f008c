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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/prcheck"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	plancomments "github.com/telefonistka/telefonistka/pkg/plan/comments"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// Builder registers the service with pkg/app.
var Builder = app.Builder{Name: "drift", New: New, Check: app.Settings(LoadConfig, true)}

// Service is the drift service.
type Service struct {
	cfg       Config
	conn      *bus.Conn
	pub       bus.Publisher
	clients   GitHubClients
	gh        GitHub
	texts     *comments.Renderer
	planTexts *plancomments.Renderer
	runs      prcheck.Store
	states    *bus.Records[events.DriftState]
	toggles   *bus.Records[toggleRecord]
	leases    *bus.Leases
	// leaseAttempts counts the metrics loop's turns (tests wait on it).
	leaseAttempts atomic.Int64
	metrics       *prMetrics
	files         *githubapi.Cache[cachedFile]
	trees         *githubapi.Cache[*treediff.Tree]
	perms         *githubapi.Cache[string]
	log           *slog.Logger
	options       func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
	now           func() time.Time
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
	runs, err := prcheck.Open(setupCtx, d.Conn)
	if err != nil {
		return nil, err
	}
	states, err := bus.OpenRecords[events.DriftState](setupCtx, d.Conn, events.BucketDriftState, events.DriftStateTTL, "drift state")
	if err != nil {
		return nil, err
	}
	leases, err := bus.OpenLeases(setupCtx, d.Conn, events.BucketLeases, 3*cfg.PRMetricsInterval, log)
	if err != nil {
		return nil, err
	}
	toggles, err := bus.OpenRecords[toggleRecord](setupCtx, d.Conn, events.BucketToggles, events.TogglesTTL, "toggle record")
	if err != nil {
		return nil, err
	}
	m, err := newPRMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering the PR metrics: %w", err)
	}
	opts := bus.ConsumerDefaults(d.ConsumerOptions).Or(log)
	return &Service{
		cfg:       cfg,
		conn:      d.Conn,
		pub:       d.Conn.Publisher(),
		clients:   d.Clients,
		gh:        githubapi.NewGitHub(d.Clients, d.Status),
		texts:     texts,
		planTexts: planTexts,
		runs:      runs,
		states:    states,
		toggles:   toggles,
		leases:    leases,
		metrics:   m,
		files:     githubapi.NewCache[cachedFile](1024),
		trees:     githubapi.NewCache[*treediff.Tree](4),
		perms:     githubapi.NewCache[string](1024),
		log:       log,
		options:   opts,
		now:       time.Now,
	}, nil
}

// Spec is the consumer of the deliveries the service handles.
func (s *Service) Spec() events.ConsumerSpec {
	spec := events.Consumer(events.ConsumerDrift)
	spec.MaxDeliver, spec.AckWait = s.cfg.MaxDeliver, s.cfg.AckWait
	return spec
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
