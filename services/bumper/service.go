// Package bumper opens version-bump PRs in GitOps repositories for code
// pipelines (SPEC §9): as the bump-overwrite, bump-regex and bump-yaml
// commands (CLI), and as a service consuming bump.requested events and
// publishing bump.opened, bump.unchanged or bump.failed.
package bumper

import (
	"context"
	"errors"
	"fmt"

	"github.com/kelseyhightower/envconfig"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/bumper/internal/bump"
)

// Name is the service and durable consumer name.
const Name = "bumper"

// Builder registers the service with pkg/app.
var Builder = app.Builder{Name: Name, New: New, Check: app.Settings(LoadConfig, true)}

// Config is the service's configuration, read from the environment.
type Config struct {
	// Concurrency is how many requests are handled at once.
	Concurrency int `envconfig:"BUMPER_CONCURRENCY" default:"4"`
	// MaxDeliver is how many times a request failing with a transient
	// error is tried before bump.failed is published and it is
	// dead-lettered.
	MaxDeliver int `envconfig:"BUMPER_MAX_DELIVER" default:"10"`
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Concurrency < 1 {
		return fmt.Errorf("BUMPER_CONCURRENCY must be at least 1, got %d", c.Concurrency)
	}
	if c.MaxDeliver < 1 {
		return fmt.Errorf("BUMPER_MAX_DELIVER must be at least 1, got %d", c.MaxDeliver)
	}
	return nil
}

// LoadConfig reads Config from the environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading bumper configuration: %w", err)
	}
	return c, c.Validate()
}

// Service consumes bump.requested.
type Service struct {
	env    *app.Env
	cfg    Config
	gh     bump.GitHub
	runner *bump.Runner
}

// New builds the service from the environment.
func New(_ context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	f, err := env.GitHub()
	if err != nil {
		return nil, err
	}
	return newService(env, cfg, githubapi.NewGitHub(f, nil)), nil
}

func newService(env *app.Env, cfg Config, gh bump.GitHub) *Service {
	return &Service{env: env, cfg: cfg, gh: gh, runner: &bump.Runner{Log: env.Log.With("service", Name)}}
}

// ConsumerSpec is the service's durable consumer.
func (s *Service) ConsumerSpec() events.ConsumerSpec {
	spec := events.Consumer(events.ConsumerBumper)
	spec.MaxDeliver = s.cfg.MaxDeliver
	return spec
}

// Run consumes requests until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	opts := s.env.ConsumerOptions(Name, s.ConsumerSpec())
	opts.Concurrency = s.cfg.Concurrency
	return bus.Consume(ctx, s.env.Conn, opts, s.handle)
}

// handle performs one request and publishes its outcome. A redelivered
// request adopts the PR the first delivery opened (and runs the steps it
// may have missed), so it never opens a second PR or commit.
func (s *Service) handle(ctx context.Context, m *bus.Message) error {
	var r events.BumpRequested
	if err := m.Env.DecodeData(&r); err != nil {
		return bus.Permanent(err)
	}
	target, req, err := prepare(&r)
	if err != nil {
		return s.failed(ctx, m, &r, nil, "checking the request", bump.Invalid(err))
	}
	req.CompleteAdopted = true
	runner := *s.runner
	runner.Log = m.Log.With("repo", target.String(), "file", r.TargetFile, "triggering_repo", r.TriggeringRepo, "sha", r.TriggeringSHA)
	res, err := runner.Run(ctx, s.gh, req)
	if err != nil {
		var se *bump.StepError
		stepName := "bumping"
		if errors.As(err, &se) {
			stepName, err = se.Step, se.Err
		}
		return s.failed(ctx, m, &r, res, stepName, err)
	}
	if res.Unchanged {
		return s.publish(ctx, m, &r, target, 0, &events.BumpUnchanged{
			TargetRepo: r.TargetRepo, TargetFile: r.TargetFile, TriggeringRepo: r.TriggeringRepo, TriggeringSHA: r.TriggeringSHA,
			BaseBranch: res.BaseBranch, BaseCommit: res.BaseCommit,
		})
	}
	return s.publish(ctx, m, &r, target, res.PR.Number, &events.BumpOpened{
		TargetRepo: r.TargetRepo, TargetFile: r.TargetFile, TriggeringRepo: r.TriggeringRepo, TriggeringSHA: r.TriggeringSHA,
		Branch: res.Branch, Commit: res.Commit, PRNumber: res.PR.Number, PRURL: res.PR.URL,
		Adopted: res.Adopted, Merged: res.Merged, MergeCommit: res.MergeCommit,
	})
}

// failed decides what a failure means: a transient error is retried
// (through redelivery) until the last allowed delivery; a permanent one, or
// the last attempt, is published as bump.failed. A permanent failure is then
// acknowledged (the event is its record); an exhausted one is returned so the
// runtime dead-letters it too.
func (s *Service) failed(ctx context.Context, m *bus.Message, r *events.BumpRequested, res *bump.Result, stepName string, err error) error {
	permanent := bus.IsPermanent(err)
	retry := fmt.Errorf("%s: %w", stepName, err)
	if delay, rateLimited := bus.RetryDelay(err); rateLimited {
		retry = bus.RetryAfter(retry, delay)
	}
	if !permanent && !m.Final(retry) {
		m.Log.Warn("bump failed; it will be retried", "step", stepName, "error", err, "delivery", m.Delivery)
		return retry
	}
	ev := &events.BumpFailed{
		TargetRepo: r.TargetRepo, TargetFile: r.TargetFile, TriggeringRepo: r.TriggeringRepo, TriggeringSHA: r.TriggeringSHA,
		Step: stepName, Error: err.Error(), Permanent: permanent,
	}
	if res != nil && res.PR != nil {
		ev.PRNumber, ev.PRURL = res.PR.Number, res.PR.URL
	}
	target, perr := events.ParseRepo(r.TargetRepo)
	var repo *events.Repo
	if perr == nil {
		repo = &target
	}
	m.Log.Error("bump failed", "step", stepName, "error", err, "permanent", permanent)
	if pubErr := s.publishOn(ctx, m, r, repo, ev.PRNumber, ev); pubErr != nil {
		return pubErr
	}
	if permanent {
		return nil
	}
	return fmt.Errorf("%s: %w", stepName, err)
}

func (s *Service) publish(ctx context.Context, m *bus.Message, r *events.BumpRequested, target events.Repo, pr int, p events.Payload) error {
	return s.publishOn(ctx, m, r, &target, pr, p)
}

// publishOn publishes the outcome p of request r, with an ID derived from
// the request, so handling a request twice publishes its outcome once
// (within the duplicate window).
func (s *Service) publishOn(ctx context.Context, m *bus.Message, r *events.BumpRequested, repo *events.Repo, pr int, p events.Payload) error {
	meta := events.Follow(m.Env, Name)
	meta.ID = events.BumpOutcomeID(r.ID(), p.EventType())
	meta.Repo, meta.PR = repo, pr
	env, err := events.New(meta, p)
	if err != nil {
		return bus.Permanent(err)
	}
	if _, err := s.env.Publisher().Publish(ctx, env); err != nil {
		return fmt.Errorf("publishing %s: %w", p.EventType(), err)
	}
	m.Log.Info("bump outcome published", "type", p.EventType(), "pr", pr)
	return nil
}
