package promoter

import (
	"context"
	"errors"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// AutoMergeTitle is the commit title of an automatic merge.
const AutoMergeTitle = "Auto-merge"

// Merge retry backoff: 0.5s, growing x1.5 (SPEC §5.11).
const (
	mergeFirstWait = 500 * time.Millisecond
	mergeGrowth    = 1.5
)

// finishPR runs the steps after a promotion PR is opened or updated:
// labels, assignees, approval, then auto-merge. A permanent auto-merge
// failure is recorded in res (and commented on the origin PR); transient
// errors are returned for a retry, which adopts the PR and runs the steps
// again.
func (s *Service) finishPR(ctx context.Context, j *job, pr *Pull, labels, assignees []string, autoMerge bool, res *result) error {
	if len(labels) > 0 {
		if err := s.gh.AddLabels(ctx, j.repo, pr.Number, labels); err != nil {
			if !bus.IsPermanent(err) {
				return at("labels", err)
			}
			j.log.Warn("labelling the promotion PR failed", "pr_number", pr.Number, "error", err)
		}
	}
	if len(assignees) > 0 {
		if err := s.gh.AddAssignees(ctx, j.repo, pr.Number, assignees); err != nil {
			j.log.Warn("assigning the promotion PR failed", "pr_number", pr.Number, "assignees", assignees, "error", err)
		}
	}
	if j.ev.AutoApprove {
		if err := s.approve(ctx, j, pr); err != nil {
			return err
		}
	}
	if autoMerge {
		return s.autoMerge(ctx, j, pr, res)
	}
	return nil
}

// approve approves pr as the approver identity. Missing credentials or a
// refused review become a comment on the promotion PR; processing goes on.
func (s *Service) approve(ctx context.Context, j *job, pr *Pull) error {
	err := s.gh.Approve(ctx, j.repo, pr.Number)
	if err == nil {
		return nil
	}
	if !bus.IsPermanent(err) && !errors.Is(err, githubapi.ErrApproverUnavailable) {
		return at("approve", err)
	}
	j.log.Warn("promotion PR not approved", "pr_number", pr.Number, "error", err)
	body, rerr := s.render.AutoApproveFailed(reasonOf(err))
	if rerr != nil {
		return at("approve", bus.Permanent(rerr))
	}
	return at("approve", s.gh.Comment(ctx, j.repo, pr.Number, body))
}

// autoMerge comments on the origin PR (once), then merges pr.
func (s *Service) autoMerge(ctx context.Context, j *job, pr *Pull, res *result) error {
	if !j.rec.AutoMergeCommented {
		body, err := s.render.AutoMerge(pr.Number)
		if err != nil {
			return at("merge", bus.Permanent(err))
		}
		if err := s.gh.Comment(ctx, j.repo, j.ev.Origin.Number, body); err != nil {
			return at("merge", err)
		}
		j.rec.AutoMergeCommented = true
		if err := s.entries.put(ctx, j.entryID, j.rec); err != nil {
			return at("merge", err)
		}
	}
	sha, attempts, err := s.mergeWithRetry(ctx, j, pr.Number)
	res.attempts = attempts
	if err == nil {
		res.mergedAs, res.outcome = sha, events.OutcomeMerged
		return nil
	}
	if !bus.IsPermanent(err) {
		return at("merge", err)
	}
	body, rerr := s.render.AutoMergeFailed(pr.Number, reasonOf(err))
	if rerr != nil {
		return at("merge", bus.Permanent(rerr))
	}
	if cerr := s.gh.Comment(ctx, j.repo, j.ev.Origin.Number, body); cerr != nil {
		return at("merge", cerr)
	}
	res.fail("merge", err)
	return nil
}

// mergeWithRetry merges, retrying only GitHub's "try the merge again" 405
// with a growing backoff, for at most MergeRetryFor or until the event's
// deadline. Giving up is permanent.
func (s *Service) mergeWithRetry(ctx context.Context, j *job, number int) (string, int, error) {
	deadline := time.Now().Add(s.cfg.MergeRetryFor)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wait := mergeFirstWait
	for attempt := 1; ; attempt++ {
		sha, err := s.gh.Merge(ctx, j.repo, number, AutoMergeTitle)
		if err == nil {
			return sha, attempt, nil
		}
		if !isTryMergeAgain(err) {
			return "", attempt, err
		}
		if time.Now().Add(wait).After(deadline) {
			return "", attempt, bus.Permanent(err)
		}
		j.log.Info("base branch was modified; retrying the merge", "pr_number", number, "attempt", attempt, "wait", wait.String())
		select {
		case <-ctx.Done():
			return "", attempt, ctx.Err()
		case <-time.After(wait):
		}
		wait = time.Duration(float64(wait) * mergeGrowth)
	}
}

// reasonOf is the text of err for a comment: GitHub's message when there
// is one.
func reasonOf(err error) string {
	var pe *githubapi.PermanentError
	if errors.As(err, &pe) && pe.Message != "" {
		return pe.Message
	}
	var ce *githubapi.CredentialsError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	if statusOf(err) != 0 {
		return messageOf(err)
	}
	return err.Error()
}
