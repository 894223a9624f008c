package argodiff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// prRun is one run of the open-PR checks: a pull_request opened, reopened
// or synchronize delivery, or a /retrigger comment.
type prRun struct {
	ID            string // the delivery id; a redelivery has the same
	Repo          events.Repo
	PR            int
	HeadSHA       string
	HeadBranch    string
	Body          string
	Labels        []string
	DefaultBranch string
	HTMLURL       string
}

func (r prRun) key() string { return events.PRCheckKey(r.Repo, r.PR, r.HeadSHA) }

func (r prRun) hasLabel(name string) bool {
	for _, l := range r.Labels {
		if l == name {
			return true
		}
	}
	return false
}

// outcome is how this service's part of a run ended.
type outcome struct {
	state, reason string
}

// checkPR takes part in run's `telefonistka` commit status (with drift,
// see events.PRCheckRun): it runs the Argo CD diff when the repository sets
// argocd.commentDiffonPR, records its result, and writes the final status
// when it is the last checker to report. A failure that will not be
// retried (permanent, the last delivery, the event timeout) records an
// error, so the status never stays pending; a transient one returns the
// error, so JetStream redelivers the run with backoff.
func (s *Service) checkPR(ctx context.Context, m *bus.Message, run prRun) error {
	log := m.Log.With("head_sha", run.HeadSHA, "run", run.ID)
	api := s.repoAPI(run.Repo)
	base, err := api.branchHead(ctx, run.DefaultBranch)
	if err != nil {
		return s.giveUp(ctx, m, log, api, run, err)
	}
	data, _, err := api.file(ctx, base, config.RepoFileName)
	if err != nil {
		return s.giveUp(ctx, m, log, api, run, err)
	}
	cfg, _ := config.ParseRepoConfig(config.RepoFileName, data)
	enabled := cfg != nil && cfg.ArgoCD.CommentDiffOnPR
	if !enabled && !s.expectedByDefault() {
		return nil // not a checker of this run
	}
	rec, _, err := s.runs.Get(ctx, run.key())
	if err != nil {
		return err
	}
	if rec != nil && rec.RunID == run.ID && rec.Finished(Checker) {
		log.Info("Argo CD diff already done for this run; making sure the status is final")
		return s.complete(ctx, api, run, rec)
	}
	if rec == nil || rec.RunID != run.ID {
		if err := s.api.SetStatus(ctx, run.Repo, run.PR, run.HeadSHA, githubapi.StatePending, ""); err != nil {
			return err
		}
	}
	fresh := events.NewPRCheckRun(run.ID, run.Repo, run.PR, run.HeadSHA, s.checkers(), s.now())
	if _, err := s.runs.Begin(ctx, run.key(), fresh); err != nil {
		return err
	}
	if _, err := s.runs.Modify(ctx, run.key(), run.ID, func(r *events.PRCheckRun) { r.Expect(Checker) }); err != nil {
		return err
	}

	res := outcome{state: events.CheckSuccess}
	var runErr error
	if enabled {
		res, runErr = s.safeDiff(ctx, log, api, m, run, cfg)
	}
	if runErr != nil {
		if !s.ends(ctx, m, runErr) {
			log.Warn("Argo CD diff failed; it will run again", "error", runErr)
			return runErr
		}
		log.Error("Argo CD diff failed", "error", runErr)
		res = outcome{state: events.CheckError, reason: failureReason(ctx, runErr)}
		s.publish(ctx, m, run, &events.ArgoDiffFailed{HeadSHA: run.HeadSHA, Reason: res.reason})
	}
	return s.finish(ctx, log, api, run, res, runErr)
}

// finish records this checker's result and writes the final status when
// the run is complete. The writes have their own deadline.
func (s *Service) finish(ctx context.Context, log *slog.Logger, api *repoAPI, run prRun, res outcome, runErr error) error {
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FinalStatusTimeout)
	defer cancel()
	rec, err := s.runs.Modify(endCtx, run.key(), run.ID, func(r *events.PRCheckRun) {
		r.Expect(Checker)
		r.Finish(Checker, res.state, res.reason, s.now())
	})
	if err != nil {
		return err
	}
	if rec == nil {
		log.Info("a newer run for this head replaced this one; its checkers set the status")
	} else if err := s.complete(endCtx, api, run, rec); err != nil {
		return err
	}
	if runErr != nil {
		return bus.Permanent(runErr) // dead-lettered; the status says error
	}
	return nil
}

// giveUp handles a failure before the run record exists: retried while it
// may help; on the last delivery the run gets an error result, so the
// status does not stay pending.
func (s *Service) giveUp(ctx context.Context, m *bus.Message, log *slog.Logger, api *repoAPI, run prRun, err error) error {
	if !s.ends(ctx, m, err) {
		return err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FinalStatusTimeout)
	defer cancel()
	fresh := events.NewPRCheckRun(run.ID, run.Repo, run.PR, run.HeadSHA, s.checkers(), s.now())
	if _, berr := s.runs.Begin(endCtx, run.key(), fresh); berr != nil {
		return errors.Join(err, berr)
	}
	log.Error("Argo CD diff failed before it started", "error", err)
	return s.finish(ctx, log, api, run, outcome{state: events.CheckError, reason: failureReason(ctx, err)}, err)
}

// complete writes the final status once every expected checker reported.
func (s *Service) complete(ctx context.Context, api *repoAPI, run prRun, rec *events.PRCheckRun) error {
	state, reason, done := rec.Final()
	if !done {
		return nil
	}
	st := githubapi.StateSuccess
	if state != events.CheckSuccess {
		st = githubapi.StateError
	}
	return s.api.SetStatus(ctx, run.Repo, run.PR, run.HeadSHA, st, reason)
}

// ends reports whether a failed run ends now (with an error status) rather
// than running again on redelivery.
func (s *Service) ends(ctx context.Context, m *bus.Message, err error) bool {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return false // shutting down: another delivery finishes the run
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return true // EVENT_TIMEOUT: /retrigger runs it again
	case bus.IsPermanent(err):
		return true
	}
	return m.Final(err)
}

func failureReason(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "Argo CD diff timed out"
	}
	return "Argo CD diff failed: " + err.Error()
}

// safeDiff runs the diff, turning a panic into a permanent error.
func (s *Service) safeDiff(ctx context.Context, log *slog.Logger, api *repoAPI, m *bus.Message, run prRun, cfg *config.RepoConfig) (res outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("Argo CD diff panicked", "panic", p, "stack", string(debug.Stack()))
			err = bus.Permanent(fmt.Errorf("argo CD diff panicked: %v", p))
		}
	}()
	d := &differ{s: s, log: log, api: api, msg: m, run: run, cfg: cfg}
	return d.execute(ctx)
}

// publish publishes an event of the run; its id derives from the run, so
// a redelivery publishes it once. Failures are logged: the comment is what
// people see.
func (s *Service) publish(ctx context.Context, m *bus.Message, run prRun, payload events.Payload) {
	meta := events.Follow(m.Env, "argodiff")
	meta.ID = events.DeriveID(payload.EventType(), run.Repo.String(), fmt.Sprint(run.PR), run.ID, run.HeadSHA)
	env, err := events.New(meta, payload)
	if err == nil {
		_, err = s.pub.Publish(ctx, env)
	}
	if err != nil {
		m.Log.Warn("publishing the Argo CD diff event failed", "type", payload.EventType(), "error", err)
	}
}
