// Package planner is the planner service. It turns a PR merged into the
// default branch into promotion plans: it reads telefonistka.yaml and the
// component files at the merge commit, lists the PR's changed files,
// computes the plan with pkg/plan and publishes one promotion.planned event
// per promotion PR to open (after a promotion.run_started listing them).
// dryRunMode and the show-plan label comment the plan instead.
//
// A second consumer counts the promoter's promotion.entry_finished events
// per run and, when every entry of a run is in, sets the origin PR's final
// telefonistka status (success, or error with one "Failed to promote:"
// comment) and publishes promotion.run_finished.
package planner

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/comments"
)

// Builder registers the planner with pkg/app.
var Builder = app.Builder{Name: "planner", New: New, Check: app.Settings(LoadConfig, true)}

// Consumer names.
const (
	// DeliveryConsumer reads merged and labeled pull_request deliveries.
	DeliveryConsumer = events.ConsumerPlanner
	// RunsConsumer reads run_started and entry_finished events.
	RunsConsumer = events.ConsumerPlannerRuns
)

const source = "planner"

// Config is the planner's configuration, read from the environment.
type Config struct {
	// TemplatesPath is the directory of comment template overrides.
	TemplatesPath string `envconfig:"TEMPLATES_PATH" default:"templates/"`
	// Concurrency is how many deliveries are handled at once.
	Concurrency int `envconfig:"PLANNER_CONCURRENCY" default:"4"`
	// ConfigCacheSize is how many parsed configuration files are kept.
	ConfigCacheSize int `envconfig:"PLANNER_CONFIG_CACHE_SIZE" default:"1024"`
	// MaxDeliver is how often a delivery is tried before it is given up
	// (and the origin PR's status set to error).
	MaxDeliver int `envconfig:"PLANNER_MAX_DELIVER" default:"10"`
	// AckWait is how long a delivery may go without progress before
	// JetStream hands it to another worker.
	AckWait time.Duration `envconfig:"PLANNER_ACK_WAIT" default:"30s"`
}

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading planner configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("PLANNER_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	if c.ConfigCacheSize < 1 {
		errs = append(errs, fmt.Errorf("PLANNER_CONFIG_CACHE_SIZE must be at least 1, got %d", c.ConfigCacheSize))
	}
	if c.MaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("PLANNER_MAX_DELIVER must be at least 1, got %d", c.MaxDeliver))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("PLANNER_ACK_WAIT must be at least 1s, got %s", c.AckWait))
	}
	return errors.Join(errs...)
}

// Service is the planner service.
type Service struct {
	cfg     Config
	conn    *bus.Conn
	pub     bus.Publisher
	gh      GitHub
	configs *configCache
	trees   *githubapi.Cache[*githubapi.Tree]
	// configured remembers whether a repository's last merge had a
	// telefonistka.yaml.
	configured *lru.Cache[string, bool]
	runs       *runStore
	render     *comments.Renderer
	log        *slog.Logger
	options    func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// New builds the planner from the environment.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	factory, err := env.GitHub()
	if err != nil {
		return nil, fmt.Errorf("the planner reads repositories through GitHub: %w", err)
	}
	log := env.Log.With("service", source)
	return NewService(ctx, Deps{
		Config:          cfg,
		Conn:            env.Conn,
		GitHub:          githubapi.NewGitHub(factory, factory.StatusSetter(log)),
		Log:             log,
		ConsumerOptions: env.ConsumerOptions,
	})
}

// Deps are what NewService needs.
type Deps struct {
	Config Config
	Conn   *bus.Conn
	GitHub GitHub
	Log    *slog.Logger
	// ConsumerOptions, if set, gives the process defaults of a consumer
	// (app.Env.ConsumerOptions).
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// NewService builds the planner from explicit dependencies.
func NewService(ctx context.Context, d Deps) (*Service, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil || d.GitHub == nil {
		return nil, errors.New("the planner needs a NATS connection and a GitHub adapter")
	}
	render, err := comments.New(d.Config.TemplatesPath)
	if err != nil {
		return nil, err
	}
	runs, err := newRunStore(ctx, d.Conn)
	if err != nil {
		return nil, err
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	opts := bus.ConsumerDefaults(d.ConsumerOptions).Or(log)
	return &Service{
		cfg:        d.Config,
		conn:       d.Conn,
		pub:        d.Conn.Publisher(),
		gh:         d.GitHub,
		configs:    newConfigCache(d.GitHub, d.Config.ConfigCacheSize),
		trees:      githubapi.NewCache[*githubapi.Tree](treeCacheSize),
		configured: must(lru.New[string, bool](4096)),
		runs:       runs,
		render:     render,
		log:        log,
		options:    opts,
	}, nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// treeCacheSize is how many commits' trees are kept: a merge's tree serves
// its configuration, its plan and its dry-run comment.
const treeCacheSize = 8

// DeliverySpec is the consumer of pull_request deliveries.
func DeliverySpec(cfg Config) events.ConsumerSpec {
	spec := events.Consumer(DeliveryConsumer)
	spec.MaxDeliver, spec.AckWait = cfg.MaxDeliver, cfg.AckWait
	return spec
}

// RunsSpec is the consumer of run events.
func RunsSpec(cfg Config) events.ConsumerSpec {
	spec := events.Consumer(RunsConsumer)
	spec.MaxDeliver, spec.AckWait = cfg.MaxDeliver, cfg.AckWait
	return spec
}

// Run consumes deliveries and run events until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deliveries := s.options(source, DeliverySpec(s.cfg))
	deliveries.Concurrency = s.cfg.Concurrency
	runs := s.options(source, RunsSpec(s.cfg))
	runs.Concurrency = s.cfg.Concurrency

	dead := s.options(source, DeadLetterSpec(s.cfg))

	errs := make(chan error, 3)
	go func() { errs <- bus.Consume(ctx, s.conn, deliveries, s.handleDelivery) }()
	go func() { errs <- bus.Consume(ctx, s.conn, runs, s.handleRunEvent) }()
	go func() { errs <- bus.Consume(ctx, s.conn, dead, s.handleDeadLetter) }()
	first := <-errs
	cancel()
	return errors.Join(first, <-errs, <-errs)
}

// publish publishes payload caused by cause, with a derived id.
func (s *Service) publish(ctx context.Context, cause *events.Envelope, id string, repo events.Repo, pr int, payload events.Payload) error {
	meta := events.Follow(cause, source)
	meta.ID, meta.Repo, meta.PR = id, &repo, pr
	env, err := events.New(meta, payload)
	if err != nil {
		return bus.Permanent(err)
	}
	if _, err := s.pub.Publish(ctx, env); err != nil {
		return err
	}
	return nil
}
