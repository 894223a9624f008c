// Package fanout forwards push webhooks to the endpoints a repository's
// webhookEndpointRegexs choose. One consumer turns each push to the default
// branch into one fanout.requested job per endpoint; a second consumer
// makes one attempt per job delivery, retrying through JetStream
// redelivery, and records each endpoint's outcome as fanout.delivered or
// fanout.failed.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/fanout/internal/forward"
)

// Builder registers fan-out with pkg/app.
var Builder = app.Builder{Name: "fanout", New: New, Check: app.Settings(LoadConfig, true)}

// Consumer names.
const (
	// PushConsumer reads push deliveries from the GITHUB stream.
	PushConsumer = events.ConsumerFanout
	// DeliverConsumer reads fanout.requested jobs from the FANOUT stream.
	DeliverConsumer = events.ConsumerFanoutDeliver
)

// Service is the fan-out service.
type Service struct {
	cfg        Config
	conn       *bus.Conn
	pub        bus.Publisher
	configs    *configCache
	deliveries *deliveryStore
	client     *forward.Client
	metrics    *metrics
	log        *slog.Logger
	options    func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// New builds fan-out from the environment.
func New(_ context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	f, err := env.GitHub()
	if err != nil {
		return nil, fmt.Errorf("fan-out reads telefonistka.yaml through GitHub: %w", err)
	}
	return NewService(Deps{
		Config:          cfg,
		Conn:            env.Conn,
		GitHub:          githubapi.NewGitHub(f, nil),
		Registry:        env.Registry,
		Log:             env.Log.With("service", "fanout"),
		ConsumerOptions: env.ConsumerOptions,
	})
}

// Deps are what NewService needs.
type Deps struct {
	Config Config
	Conn   *bus.Conn
	// GitHub reads telefonistka.yaml (a *githubapi.GitHub).
	GitHub   GitHub
	Registry prometheus.Registerer
	Log      *slog.Logger
	// ConsumerOptions, if set, gives the process defaults for a consumer
	// (app.Env.ConsumerOptions).
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
}

// NewService builds fan-out from explicit dependencies.
func NewService(d Deps) (*Service, error) {
	cfg := d.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil || d.GitHub == nil {
		return nil, errors.New("fan-out needs a NATS connection and GitHub clients")
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering fan-out metrics: %w", err)
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	opts := bus.ConsumerDefaults(d.ConsumerOptions).Or(log)
	return &Service{
		cfg:        cfg,
		conn:       d.Conn,
		pub:        d.Conn.Publisher(),
		configs:    newConfigCache(d.GitHub, configCacheSize),
		deliveries: newDeliveryStore(d.Conn.JS, deliveryCacheBudget),
		client:     forward.NewClient(cfg.Timeout, cfg.Concurrency, cfg.AllowLocalAddresses),
		metrics:    m,
		log:        log,
		options:    opts,
	}, nil
}

// PushSpec is the consumer of push deliveries.
func PushSpec() events.ConsumerSpec {
	return events.Consumer(PushConsumer)
}

// DeliverSpec is the consumer of forwarding jobs. Its AckWait covers a job
// that waits in the client's buffer while every worker runs a full attempt.
func DeliverSpec(cfg Config) events.ConsumerSpec {
	spec := events.Consumer(DeliverConsumer)
	spec.AckWait = max(30*time.Second, 4*cfg.Timeout)
	return spec
}

// Run consumes pushes and jobs until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	defer s.client.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pushOpts := s.options("fanout", PushSpec())
	deliverOpts := s.options("fanout", DeliverSpec(s.cfg))
	deliverOpts.Concurrency = s.cfg.Concurrency
	deliverOpts.Unordered = true

	errs := make(chan error, 2)
	go func() { errs <- bus.Consume(ctx, s.conn, pushOpts, s.handlePush) }()
	go func() { errs <- bus.Consume(ctx, s.conn, deliverOpts, s.handleJob) }()
	first := <-errs
	cancel()
	second := <-errs
	return errors.Join(first, second)
}
