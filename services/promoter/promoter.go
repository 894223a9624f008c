// Package promoter is the promoter service. It consumes promotion.planned
// events and opens, updates, labels, approves and merges promotion PRs
// through the Git Data API in a constant number of calls: one recursive
// tree read per commit involved, one create-tree, one commit, one ref and
// one PR, whatever the size of the components.
//
// Every step is idempotent: branch names are deterministic, existing
// branches and PRs are adopted, a KV record per plan entry makes a replayed
// entry a no-op, and a KV lease serialises the work on one promotion group
// across workers and replicas. It publishes promotion.pr_opened,
// pr_updated, merged, in_sync and failed, and last, for every entry,
// promotion.entry_finished, which the planner counts to finish the run.
package promoter

import (
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

// Builder registers the promoter with pkg/app.
var Builder = app.Builder{Name: "promoter", New: New, Check: app.Settings(LoadConfig, true)}

// Consumer is the durable consumer of planned events.
const Consumer = events.ConsumerPromoter

const source = "promoter"

// Config is the promoter's configuration, read from the environment.
type Config struct {
	// TemplatesPath is the directory of comment template overrides.
	TemplatesPath string `envconfig:"TEMPLATES_PATH" default:"templates/"`
	// Concurrency is how many plan entries are handled at once.
	Concurrency int `envconfig:"PROMOTER_CONCURRENCY" default:"4"`
	// MaxDeliver is how often an entry is tried before it is reported as
	// failed.
	MaxDeliver int `envconfig:"PROMOTER_MAX_DELIVER" default:"10"`
	// AckWait is how long an entry may go without progress before
	// JetStream hands it to another worker (a crashed promoter's entries
	// are retried after it).
	AckWait time.Duration `envconfig:"PROMOTER_ACK_WAIT" default:"30s"`
	// TreeCacheSize is how many recursive trees are kept.
	TreeCacheSize int `envconfig:"PROMOTER_TREE_CACHE_SIZE" default:"16"`
	// LockTTL is the lease of a promotion group lock; it is renewed while
	// held, so it only bounds how long a dead holder blocks the group.
	LockTTL time.Duration `envconfig:"PROMOTER_LOCK_TTL" default:"30s"`
	// LockWait is how long an entry waits for its group's lock before it is
	// put back to be retried.
	LockWait time.Duration `envconfig:"PROMOTER_LOCK_WAIT" default:"20s"`
	// MergeRetryFor bounds the retries of a merge GitHub answers with "Base
	// branch was modified" (405).
	MergeRetryFor time.Duration `envconfig:"PROMOTER_MERGE_RETRY_FOR" default:"5m"`
}

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading promoter configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", name, v))
		}
	}
	positive("PROMOTER_CONCURRENCY", c.Concurrency)
	positive("PROMOTER_MAX_DELIVER", c.MaxDeliver)
	positive("PROMOTER_TREE_CACHE_SIZE", c.TreeCacheSize)
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("PROMOTER_ACK_WAIT must be at least 1s, got %s", c.AckWait))
	}
	if c.LockTTL < 3*time.Second {
		errs = append(errs, fmt.Errorf("PROMOTER_LOCK_TTL must be at least 3s, got %s", c.LockTTL))
	}
	if c.LockWait <= 0 {
		errs = append(errs, fmt.Errorf("PROMOTER_LOCK_WAIT must be positive, got %s", c.LockWait))
	}
	if c.MergeRetryFor < 0 {
		errs = append(errs, fmt.Errorf("PROMOTER_MERGE_RETRY_FOR must not be negative, got %s", c.MergeRetryFor))
	}
	return errors.Join(errs...)
}

// Service is the promoter service.
type Service struct {
	cfg        Config
	conn       *bus.Conn
	pub        bus.Publisher
	gh         GitHub
	trees      *treeCache
	components *componentConfigs
	entries    *records[entryRecord]
	branches   *records[branchRecord]
	groups     *records[groupRecord]
	locks      *locker
	render     *comments.Renderer
	log        *slog.Logger
	options    func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// New builds the promoter from the environment.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	factory, err := env.GitHub()
	if err != nil {
		return nil, fmt.Errorf("the promoter writes to repositories through GitHub: %w", err)
	}
	return NewService(ctx, Deps{
		Config:          cfg,
		Conn:            env.Conn,
		GitHub:          githubapi.NewGitHub(factory, nil),
		Log:             env.Log.With("service", source),
		ConsumerOptions: env.ConsumerOptions,
	})
}

// Deps are what NewService needs.
type Deps struct {
	Config Config
	Conn   *bus.Conn
	GitHub GitHub
	Log    *slog.Logger
	// ConsumerOptions, if set, gives the process defaults of a consumer.
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// NewService builds the promoter from explicit dependencies.
func NewService(ctx context.Context, d Deps) (*Service, error) {
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil || d.GitHub == nil {
		return nil, errors.New("the promoter needs a NATS connection and a GitHub adapter")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	render, err := comments.New(d.Config.TemplatesPath)
	if err != nil {
		return nil, err
	}
	entries, err := openRecords[entryRecord](ctx, d.Conn, events.BucketPromotionEntries, "promotion entry")
	if err != nil {
		return nil, err
	}
	branches, err := openRecords[branchRecord](ctx, d.Conn, events.BucketPromotionBranches, "promotion branch")
	if err != nil {
		return nil, err
	}
	groups, err := openRecords[groupRecord](ctx, d.Conn, events.BucketPromotionGroups, "promotion group")
	if err != nil {
		return nil, err
	}
	locks, err := newLocker(ctx, d.Conn, d.Config.LockTTL, d.Config.LockWait, log)
	if err != nil {
		return nil, err
	}
	opts := bus.ConsumerDefaults(d.ConsumerOptions).Or(log)
	return &Service{
		cfg:        d.Config,
		conn:       d.Conn,
		pub:        d.Conn.Publisher(),
		gh:         d.GitHub,
		trees:      newTreeCache(d.GitHub, d.Config.TreeCacheSize),
		components: newComponentConfigs(d.GitHub, 1024),
		entries:    entries,
		branches:   branches,
		groups:     groups,
		locks:      locks,
		render:     render,
		log:        log,
		options:    opts,
	}, nil
}

// Spec is the consumer of planned events.
func Spec(cfg Config) events.ConsumerSpec {
	spec := events.Consumer(Consumer)
	spec.MaxDeliver, spec.AckWait = cfg.MaxDeliver, cfg.AckWait
	return spec
}

// Run consumes planned events until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	opts := s.options(source, Spec(s.cfg))
	opts.Concurrency = s.cfg.Concurrency
	return bus.Consume(ctx, s.conn, opts, s.handlePlanned)
}
