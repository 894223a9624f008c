// Package tracker is the read side of promotions: it projects the
// promotion events, the pull_request deliveries and argodiff's events into
// the state of each change (its journey from the original PR through every
// stage) and of each environment (per target and component, the change it
// last received and the one waiting in an open PR), keeps that state in
// JetStream KV, and shows it: a JSON API and a web page under /tracker, the
// `telefonistka status` command, and, for repositories that ask for it, one
// comment on each change's original PR edited as the change moves on.
package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/tracker/internal/render"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// Name is the service's name.
const Name = "tracker"

// Builder registers the tracker with pkg/app. It calls GitHub only for
// the origin-PR comment (TRACKER_COMMENTS).
var Builder = app.Builder{Name: Name, New: New, Check: check}

func check() error {
	cfg, err := LoadConfig()
	if err != nil {
		return err
	}
	if cfg.Comments {
		return app.CheckGitHub()
	}
	return nil
}

const (
	trackerStream = events.StreamTracker
	consumerName  = events.ConsumerTracker
)

// Service is the tracker.
type Service struct {
	cfg    Config
	conn   *bus.Conn
	kv     jetstream.KeyValue
	tables state.Tables
	// forget makes the tables forget a key deleted from the bucket.
	forget   func(key string)
	model    *view.Model
	comments *commenter // nil when comments are off
	options  func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
	health   *bus.Health
	log      *slog.Logger
	metrics  *metrics
	// ready is closed once the model holds every record of the bucket.
	ready chan struct{}
}

// New builds the tracker from the process environment.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	d := Deps{Config: cfg, Conn: env.Conn, Registry: env.Registry, Log: env.Log, Health: env.Health,
		ConsumerOptions: env.ConsumerOptions, DuplicateWindow: env.Config.DuplicateWindow}
	if cfg.Comments {
		f, err := env.GitHub()
		if err != nil {
			return nil, fmt.Errorf("the tracker comments on PRs through GitHub (TRACKER_COMMENTS=false turns that off): %w", err)
		}
		d.GitHub, d.BotLogin = githubapi.NewGitHub(f, nil), f.BotLogin
	}
	return NewService(ctx, d)
}

// Deps are what NewService needs.
type Deps struct {
	Config Config
	Conn   *bus.Conn
	// GitHub and BotLogin write the origin-PR comment (nil: no comments).
	GitHub   GitHub
	BotLogin func(context.Context) (string, error)
	Registry prometheus.Registerer
	Log      *slog.Logger
	Health   *bus.Health
	// ConsumerOptions gives the process defaults for a consumer.
	ConsumerOptions func(service string, spec events.ConsumerSpec) bus.ConsumerOptions
	// DuplicateWindow of the TRACKER stream (0: the default).
	DuplicateWindow time.Duration
	// Leases, if set, replaces the leases bucket (tests).
	Leases *bus.Leases
}

// NewService creates the TRACKER stream and the buckets, rebuilding the
// projection when the bucket does not hold one of this version.
func NewService(ctx context.Context, d Deps) (*Service, error) {
	cfg := d.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Conn == nil {
		return nil, errors.New("the tracker needs a NATS connection")
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", Name)
	health := d.Health
	if health == nil {
		health = &bus.Health{}
	}
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering tracker metrics: %w", err)
	}
	setup, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := bus.EnsureStream(setup, d.Conn, events.TrackerStream(cfg.Retention, d.DuplicateWindow)); err != nil {
		return nil, err
	}
	kv, err := bus.EnsureKV(setup, d.Conn, events.BucketTracker, 0)
	if err != nil {
		return nil, err
	}
	rebuilt, err := prepare(setup, d.Conn.JS, kv)
	if err != nil {
		return nil, err
	}
	if rebuilt {
		log.Info("the tracker bucket holds no projection of this version: rebuilding it from the start of the stream",
			"stream", trackerStream, "version", projectionVersion)
	}
	// Not ready until the model holds every record (watch).
	health.Set("tracker model", errors.New("the tracker is loading its records"))
	tables, forget := kvTables(kv, d.Conn, rebuilt)
	s := &Service{cfg: cfg, conn: d.Conn, kv: kv, tables: tables, forget: forget, model: view.NewModel(), options: d.ConsumerOptions,
		health: health, log: log, metrics: m, ready: make(chan struct{})}
	if s.options == nil {
		s.options = func(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
			return bus.ConsumerOptions{Spec: spec, Service: service, Log: log}
		}
	}
	if cfg.Comments && d.GitHub != nil {
		texts, err := render.NewComments(cfg.TemplatesPath)
		if err != nil {
			return nil, err
		}
		leases := d.Leases
		if leases == nil {
			if leases, err = bus.OpenLeases(setup, d.Conn, events.BucketLeases, leaseTTL, log); err != nil {
				return nil, err
			}
		}
		records, err := bus.OpenRecords[commentRecord](setup, d.Conn, events.BucketTrackerComments, events.TrackerCommentsTTL, "tracker comment")
		if err != nil {
			return nil, err
		}
		s.comments = newCommenter(cfg, d.GitHub, d.BotLogin, texts, records, leases, s.model, m, log, s.backlog)
	}
	return s, nil
}

// Spec is the tracker's consumer of the TRACKER stream.
func Spec() events.ConsumerSpec {
	spec := events.Consumer(consumerName)
	spec.AckWait = 30 * time.Second
	return spec
}

// Run projects events, keeps the model current and writes comments until
// ctx is done.
func (s *Service) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 3)
	go func() { errs <- s.watch(ctx) }()
	workers := 1
	if s.comments != nil {
		workers++
		go func() { errs <- s.comments.run(ctx, s.ready) }()
	}
	opts := s.options(Name, Spec())
	opts.Concurrency = s.cfg.Concurrency
	go func() { errs <- bus.Consume(ctx, s.conn, opts, s.handle) }()
	var err error
	for range workers + 1 {
		if e := <-errs; e != nil && err == nil {
			err = e
			cancel()
		}
	}
	return err
}

// handle projects one event.
func (s *Service) handle(ctx context.Context, m *bus.Message) error {
	start := time.Now()
	f, err := state.FromEvent(m.Env)
	if err != nil {
		return bus.Permanent(fmt.Errorf("reading %s %s: %w", m.Env.Type, m.Env.ID, err))
	}
	if f.Empty() {
		return nil
	}
	if err := s.tables.Apply(ctx, f); err != nil {
		return fmt.Errorf("projecting %s %s: %w", m.Env.Type, m.Env.ID, err)
	}
	s.metrics.projected.WithLabelValues(m.Env.Type).Observe(time.Since(start).Seconds())
	return nil
}

// watch feeds the model from the bucket: every record, then every change.
func (s *Service) watch(ctx context.Context) error {
	for ctx.Err() == nil {
		err := s.watchOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.health.Set("tracker model", err)
		s.log.Warn("watching the tracker bucket; starting again", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *Service) watchOnce(ctx context.Context) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watching the tracker bucket: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("the tracker bucket's watch ended")
			}
			if e == nil { // every record so far is in
				s.health.Set("tracker model", nil)
				select {
				case <-s.ready:
				default:
					close(s.ready)
				}
				continue
			}
			switch e.Operation() {
			case jetstream.KeyValuePut:
				if err := s.model.Put(e.Key(), e.Value()); err != nil {
					s.log.Error("a tracker record cannot be read; left out of the pages", "key", e.Key(), "error", err)
				}
			default:
				s.forget(e.Key())
				s.model.Delete(e.Key())
			}
			s.model.Seen(e.Revision())
		}
	}
}

// backlog is how many events of the TRACKER stream the projection has not
// handled yet, and how many it is handling.
func (s *Service) backlog(ctx context.Context) (pending, inFlight uint64, err error) {
	ctx, cancel := bus.CallContext(ctx, s.conn.CallTimeout)
	defer cancel()
	c, err := s.conn.JS.Consumer(ctx, trackerStream, consumerName)
	if err != nil {
		return 0, 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.NumPending, uint64(info.NumAckPending), nil
}

// Model is the tracker's view of the records (tests).
func (s *Service) Model() *view.Model { return s.model }
