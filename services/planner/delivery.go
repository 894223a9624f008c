package planner

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// ShowPlanLabel asks for the plan of an open PR as a comment.
const ShowPlanLabel = "show-plan"

// finalStatusTimeout bounds writing a final status, on a context of its
// own so it is written even after the event's deadline.
const finalStatusTimeout = 20 * time.Second

// statusRun tracks the telefonistka status of the PR a delivery is about,
// so a delivery that is given up leaves the status at error, never pending.
type statusRun struct {
	repo   events.Repo
	pr     int
	sha    string
	active bool // pending was set and no final state yet
	// comments posts the delivery's comments once.
	comments *commenter
}

func (r *statusRun) start(repo events.Repo, pr int, sha string) {
	r.repo, r.pr, r.sha, r.active = repo, pr, sha, true
}

// handleDelivery handles a pull_request delivery: a merge into the default
// branch plans promotions, a label added while show-plan is present
// comments the plan.
func (s *Service) handleDelivery(ctx context.Context, m *bus.Message) error {
	d, parsed, err := githubapi.ParseDelivery(m.Env)
	if err != nil {
		return err
	}
	ev, ok := parsed.(*github.PullRequestEvent)
	if !ok || ev.GetPullRequest() == nil || ev.GetRepo() == nil {
		return nil
	}
	repo := githubapi.RepoOf(ev.GetRepo())
	log := m.Log.With("delivery_id", d.DeliveryID, "pr", ev.GetPullRequest().GetNumber())
	run := &statusRun{comments: s.commenter(m)}
	switch ev.GetAction() {
	case "closed":
		err = s.handleMerged(ctx, m, log, repo, ev, run)
	case "labeled":
		err = s.handleShowPlan(ctx, log, repo, ev, run)
	default:
		return nil
	}
	if err != nil && run.active && m.Final(err) {
		s.finalStatus(ctx, log, run, githubapi.StateError, "planning failed: "+err.Error())
	}
	return err
}

// finalStatus sets the final state of run on a context of its own.
func (s *Service) finalStatus(ctx context.Context, log *slog.Logger, run *statusRun, state, reason string) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalStatusTimeout)
	defer cancel()
	if err := s.gh.SetStatus(sctx, run.repo, run.pr, run.sha, state, reason); err != nil {
		log.Error("setting the final commit status", "state", state, "error", err)
		return
	}
	run.active = false
}

// reject posts a rendered comment on the run's PR and sets the final
// status error with reason.
func (s *Service) reject(ctx context.Context, log *slog.Logger, run *statusRun, reason, body string, renderErr error) error {
	if err := run.comments.post(ctx, run.repo, run.pr, body, renderErr); err != nil {
		return err
	}
	s.finalStatus(ctx, log, run, githubapi.StateError, reason)
	return nil
}
