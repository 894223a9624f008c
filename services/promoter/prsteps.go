package promoter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// AutoMergeTitle is the commit title of an automatic merge.
const AutoMergeTitle = "Auto-merge"

// finishPR runs the steps after a promotion PR is opened or updated:
// labels, assignees, approval, then auto-merge. ours is the commit the
// promoter wrote to the PR's branch: only that head is approved and merged
// (a PR someone else pushed to is no longer the promoter's; see
// foreignHead). A permanent auto-merge failure is recorded in res (and
// commented on the origin PR); transient errors are returned for a retry,
// which adopts the PR and runs the steps again.
func (s *Service) finishPR(ctx context.Context, j *job, pr *Pull, ours string, entry *plan.Entry, md metadata.Metadata, res *result) error {
	fresh := res.outcome == events.OutcomeOpened && !res.adopted
	if err := s.labelAndAssign(ctx, j, pr, entry.Labels, authors(md), fresh); err != nil {
		return err
	}
	if !j.ev.AutoApprove && !entry.AutoMerge {
		return nil
	}
	if pr.HeadSHA != ours {
		return s.foreignHead(ctx, j, pr, ours, entry.AutoMerge, res)
	}
	if j.ev.AutoApprove {
		if err := s.approve(ctx, j, pr, ours); err != nil {
			return err
		}
	}
	if entry.AutoMerge {
		return s.autoMerge(ctx, j, pr, ours, res)
	}
	return nil
}

// labelAndAssign gives pr the entry's labels and the origin PRs' authors as
// assignees, skipping what it already has. A PR just opened has neither,
// so both are set in one issue update; if GitHub refuses that (an author
// who cannot be assigned), or the PR was adopted, labels and assignees are
// added one call each. A refused label or assignee is logged, not retried.
func (s *Service) labelAndAssign(ctx context.Context, j *job, pr *Pull, labels, assignees []string, fresh bool) error {
	labels, assignees = missing(labels, pr.Labels), missing(assignees, pr.Assignees)
	if len(labels) == 0 && len(assignees) == 0 {
		return nil
	}
	if fresh {
		err := s.gh.UpdateIssue(ctx, j.repo, pr.Number, githubapi.IssueUpdate{Labels: labels, Assignees: assignees})
		if err == nil {
			return nil
		}
		if !bus.IsPermanent(err) {
			return at("labels", err)
		}
		j.log.Warn("labelling and assigning the promotion PR at once failed; one at a time", "pr_number", pr.Number, "error", err)
	}
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
	return nil
}

// missing returns the names of want that have is lacks (GitHub compares
// labels and logins without case).
func missing(want, has []string) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(has, func(h string) bool { return strings.EqualFold(h, w) }) {
			out = append(out, w)
		}
	}
	return out
}

// approve approves pr's head ours as the approver identity. Missing
// credentials or a refused review become a comment on the promotion PR;
// processing goes on.
func (s *Service) approve(ctx context.Context, j *job, pr *Pull, ours string) error {
	err := s.gh.Approve(ctx, j.repo, pr.Number, ours)
	if err == nil {
		return nil
	}
	if !bus.IsPermanent(err) && !errors.Is(err, githubapi.ErrApproverUnavailable) {
		return at("approve", err)
	}
	j.log.Warn("promotion PR not approved", "pr_number", pr.Number, "error", err)
	body, rerr := s.render.AutoApproveFailed(githubapi.Message(err))
	if rerr != nil {
		return at("approve", bus.Permanent(rerr))
	}
	return at("approve", s.comment(ctx, j.repo, pr.Number, body))
}

// autoMerge comments on the origin PR (once), then merges pr if its head is
// still ours.
func (s *Service) autoMerge(ctx context.Context, j *job, pr *Pull, ours string, res *result) error {
	if !j.rec.AutoMergeCommented {
		body, err := s.render.AutoMerge(pr.Number)
		if err != nil {
			return at("merge", bus.Permanent(err))
		}
		if err := s.comment(ctx, j.repo, j.ev.Origin.Number, body); err != nil {
			return at("merge", err)
		}
		j.rec.AutoMergeCommented = true
		if err := s.entries.put(ctx, j.entryID, j.rec); err != nil {
			return at("merge", err)
		}
	}
	sha, attempts, err := s.merge(ctx, j, pr.Number, ours)
	res.attempts = attempts
	if err == nil {
		res.mergedAs, res.outcome = sha, events.OutcomeMerged
		return nil
	}
	if errors.Is(err, githubapi.ErrHeadModified) {
		return s.foreignHead(ctx, j, pr, ours, true, res)
	}
	if !bus.IsPermanent(err) {
		return at("merge", err)
	}
	body, rerr := s.render.AutoMergeFailed(pr.Number, githubapi.Message(err))
	if rerr != nil {
		return at("merge", bus.Permanent(rerr))
	}
	if cerr := s.comment(ctx, j.repo, j.ev.Origin.Number, body); cerr != nil {
		return at("merge", cerr)
	}
	res.fail("merge", err)
	return nil
}

// foreignHead handles a promotion PR whose head is not the commit the
// promoter wrote: someone else pushed to its branch, so, as under the
// supersede rules, the PR is no longer the promoter's to approve or merge.
// The PR says so (once), and with auto-merge the origin PR too and the
// entry fails, so the origin PR's status shows it. A later promotion of the
// group replaces the PR (supersede) instead of updating it.
func (s *Service) foreignHead(ctx context.Context, j *job, pr *Pull, ours string, autoMerge bool, res *result) error {
	j.log.Warn("someone else pushed to the promotion PR; not approved or merged automatically",
		"pr_number", pr.Number, "ours", ours, "head", pr.HeadSHA)
	if !j.rec.ForeignNoted {
		body, err := s.render.ForeignPush(ours)
		if err != nil {
			return at("merge", bus.Permanent(err))
		}
		if err := s.comment(ctx, j.repo, pr.Number, body); err != nil {
			return at("merge", err)
		}
		if autoMerge {
			body, err := s.render.AutoMergeFailed(pr.Number, ErrHeadModified.Error())
			if err != nil {
				return at("merge", bus.Permanent(err))
			}
			if err := s.comment(ctx, j.repo, j.ev.Origin.Number, body); err != nil {
				return at("merge", err)
			}
		}
		j.rec.ForeignNoted = true
		if err := s.entries.put(ctx, j.entryID, j.rec); err != nil {
			return at("merge", err)
		}
	}
	if autoMerge {
		res.fail("merge", fmt.Errorf("promotion PR #%d: %w", pr.Number, ErrHeadModified))
	}
	return nil
}

// merge makes one merge attempt of PR number at head. GitHub's "Base
// branch was modified ... try the merge again" (405) is retried through
// JetStream, not in the handler: the entry comes back (RetryAfter) after
// githubapi.MergeRetry's waits (0.5 s growing ×1.5), and meanwhile the worker and the group are free for
// other entries. The retries and the first refusal are kept in the entry
// record; once MergeRetryFor has passed, giving up is permanent. The
// attempt returned counts every attempt of the entry.
func (s *Service) merge(ctx context.Context, j *job, number int, head string) (string, int, error) {
	attempt := j.rec.MergeRetries + 1
	sha, err := s.gh.Merge(ctx, j.repo, number, head, AutoMergeTitle, "")
	if err == nil {
		return sha, attempt, nil
	}
	if !errors.Is(err, githubapi.ErrBaseModified) {
		return "", attempt, err
	}
	now := time.Now()
	if j.rec.MergeRetrySince.IsZero() {
		j.rec.MergeRetrySince = now
	}
	wait, ok := githubapi.MergeRetry{Within: s.cfg.MergeRetryFor}.Next(j.rec.MergeRetries, j.rec.MergeRetrySince, now)
	if !ok || s.cfg.MergeRetryFor == 0 {
		return "", attempt, bus.Permanent(err)
	}
	j.rec.MergeRetries++
	if perr := s.entries.put(ctx, j.entryID, j.rec); perr != nil {
		return "", attempt, perr
	}
	j.log.Info("base branch was modified; the merge is retried", "pr_number", number, "attempt", attempt, "retry_in", wait.String())
	return "", attempt, bus.RetryAfter(err, wait)
}
