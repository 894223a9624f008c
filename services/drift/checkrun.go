package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// prRun is one run of the open-PR checks: a pull_request opened, reopened
// or synchronize delivery, or a /retrigger comment.
type prRun struct {
	// ID is the delivery id; a redelivery has the same.
	ID            string
	Repo          events.Repo
	PR            int
	HeadSHA       string
	Labels        []string
	DefaultBranch string
	// HTMLURL is the repository's web address (for blame links).
	HTMLURL string
	// Opened: the PR was just opened, so no earlier check commented on it.
	Opened bool
	// BaseSHA is the default branch head the delivery names (the PR's
	// base when it was opened or pushed to); empty: read it.
	BaseSHA string
}

func (r prRun) key() string { return events.PRCheckKey(r.Repo, r.PR, r.HeadSHA) }

// outcome is how this service's part of a run ended.
type outcome struct {
	state  string // events.CheckSuccess or events.CheckError
	reason string
}

// checkPR runs this service's checks of run inside the telefonistka
// commit status: pending first, then, once every expected checker has
// reported, success or error. The status never stays pending: a failure
// that will not be retried (permanent, the last delivery, or the event
// timeout) ends the run with error, and the writes that end it have their
// own deadline. A process killed mid-check leaves the delivery
// unacknowledged, so JetStream redelivers it and the check runs again.
func (s *Service) checkPR(ctx context.Context, m *bus.Message, run prRun) error {
	log := m.Log.With("head_sha", run.HeadSHA, "run", run.ID)
	api, err := s.repoAPI(ctx, run.Repo)
	if err != nil {
		return err
	}
	rec, _, err := s.runs.Get(ctx, run.key())
	if err != nil {
		return err
	}
	if rec != nil && rec.RunID == run.ID && rec.Finished(Checker) {
		log.Info("check already done for this run; making sure the status is final")
		return s.complete(ctx, api, run, rec)
	}
	if err := s.gh.SetStatus(ctx, run.Repo, run.PR, run.HeadSHA, githubapi.StatePending, ""); err != nil {
		return err
	}
	fresh := events.NewPRCheckRun(run.ID, run.Repo, run.PR, run.HeadSHA, s.cfg.Checkers, s.now())
	if rec, err = s.runs.Begin(ctx, run.key(), fresh); err != nil {
		return err
	}

	res, checkErr := s.safeCheck(ctx, log, api, m, run, rec)
	if checkErr != nil {
		if !s.ends(ctx, m, checkErr) {
			log.Warn("check failed; it will run again", "error", checkErr)
			return checkErr
		}
		log.Error("check failed", "error", checkErr)
		res = outcome{state: events.CheckError, reason: failureReason(ctx, checkErr)}
	}

	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FinalStatusTimeout)
	defer cancel()
	rec, err = s.runs.Modify(endCtx, run.key(), run.ID, func(r *events.PRCheckRun) {
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
	if checkErr != nil {
		return bus.Permanent(checkErr) // recorded as a dead letter; the status says error
	}
	return nil
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
	return s.gh.SetStatus(ctx, run.Repo, run.PR, run.HeadSHA, st, reason)
}

// ends reports whether a failed check ends the run now (with an error
// status) rather than running again on redelivery.
func (s *Service) ends(ctx context.Context, m *bus.Message, err error) bool {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return false // shutting down: another delivery finishes the run
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return true // EVENT_TIMEOUT: /retrigger runs it again
	case bus.IsPermanent(err):
		return true
	}
	return m.Final(err)
}

func failureReason(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return "drift check timed out"
	}
	return "drift check failed: " + err.Error()
}

// safeCheck runs check, turning a panic into a permanent error.
func (s *Service) safeCheck(ctx context.Context, log *slog.Logger, api *repoAPI, m *bus.Message, run prRun, rec *events.PRCheckRun) (res outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("drift check panicked", "panic", p, "stack", string(debug.Stack()))
			err = bus.Permanent(fmt.Errorf("drift check panicked: %v", p))
		}
	}()
	c := &checker{s: s, log: log, api: api, msg: m, run: run, rec: rec}
	return c.check(ctx)
}
