package planner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// MaxListedFiles is the most changed files GitHub lists for a PR; a PR at
// the limit may have more, so it is not promoted.
const MaxListedFiles = 3000

// handleMerged plans the promotions of a PR merged into the default branch.
// It reads at once GitHub's facts of the PR with the default branch head,
// the PR's files and the merge commit's tree, then the repository
// configuration (when its blob is not cached). In a repository not known to
// have a configuration the tree is read first (none: done, one call). No
// pending status is set: the final one follows when the run ends.
func (s *Service) handleMerged(ctx context.Context, m *bus.Message, log *slog.Logger, repo events.Repo, ev *github.PullRequestEvent, run *statusRun) error {
	pr := githubapi.PullOf(ev.GetPullRequest())
	defaultBranch := ev.GetRepo().GetDefaultBranch()
	if !pr.Merged {
		return nil
	}
	if defaultBranch == "" || pr.BaseRef != defaultBranch {
		log.Debug("merged into another branch than the default branch; not promoted", "base", pr.BaseRef, "default_branch", defaultBranch)
		return nil
	}
	merge, number := pr.MergeCommit, pr.Number
	if merge == "" {
		return bus.Permanent(fmt.Errorf("merged PR %s#%d has no merge commit", repo, number))
	}
	runID := events.PromotionRunID(repo, merge)
	known, err := s.runs.get(ctx, runID)
	if err != nil {
		return err
	}
	if known != nil && known.Finished {
		log.Info("promotion run already finished; replay ignored", "run_id", runID)
		return nil
	}
	// A repository known to have a configuration has every read made at
	// once; another has its tree read first, to stop there when it has none.
	var src *commitFiles
	if configured, known := s.configured.Get(repo.String()); !known || !configured {
		f, err := s.commitFiles(ctx, repo, merge)
		if err != nil {
			return err
		}
		if _, found, err := s.configs.repoConfig(ctx, f); err == nil && !found {
			s.configured.Add(repo.String(), false)
			log.Debug("no telefonistka.yaml at the merge commit; nothing to promote")
			return nil
		}
		src = &f
	}
	in, err := s.mergeInputs(ctx, log, repo, number, merge, src)
	if err != nil || in == nil {
		return err
	}
	if in.src.commit != merge {
		log.Warn("the delivery's merge commit differs from GitHub's; GitHub's is promoted", "payload_merge_commit", merge, "merge_commit", in.src.commit)
		runID = events.PromotionRunID(repo, in.src.commit)
	}
	merge, pr = in.src.commit, in.facts.Pull
	head := pr.HeadSHA
	log = log.With("merge_commit", merge)
	cfg, cfgErr := in.cfg, in.cfgErr
	run.start(repo, number, head)
	if cfgErr != nil {
		body, rerr := s.render.ConfigError(cfgErr.Findings)
		if err := s.reject(ctx, log, run, "invalid "+config.RepoFileName, body, rerr); err != nil {
			return err
		}
		return bus.Permanent(fmt.Errorf("planning the promotion of %s#%d: %w", repo, number, cfgErr))
	}

	origin := originOf(log, pr)
	if origin.TooDeep() {
		body, rerr := s.render.CycleGuard(origin.Depth(), metadata.MaxChainDepth)
		return s.reject(ctx, log, run, "promotion chain looks cyclic", body, rerr)
	}
	if len(in.files) >= MaxListedFiles || pr.ChangedFiles > len(in.files) {
		body, rerr := s.render.TooLargePR(MaxListedFiles)
		return s.reject(ctx, log, run, "too many changed files to promote", body, rerr)
	}
	files, labels := changedNames(in.files), pr.Labels
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: files, Labels: labels, Components: s.configs.lookup(ctx, in.src)})
	findings, bad, readErr := splitComponentErrors(p.ComponentErrors)
	if readErr != nil {
		return readErr
	}

	if cfg.DryRunMode {
		base := in.src
		if len(p.Entries) > 0 {
			if base, err = s.headFiles(ctx, in); err != nil {
				return err
			}
		}
		body, err := s.planComment(ctx, in.src, base, p)
		if err != nil {
			return err
		}
		if err := s.reportComponentErrors(ctx, run, repo, number, findings); err != nil {
			return err
		}
		if len(p.Entries) > 0 {
			if err := run.comments.post(ctx, repo, number, body, nil); err != nil {
				return err
			}
		}
		s.finish(ctx, log, run, bad)
		return nil
	}
	if err := s.reportComponentErrors(ctx, run, repo, number, findings); err != nil {
		return err
	}
	if len(p.Entries) == 0 {
		log.Info("merge promotes nothing", "files", len(files))
		s.finish(ctx, log, run, bad)
		return nil
	}

	ri := runInput{
		runID: runID, repo: repo, merge: merge, defaultBranch: defaultBranch, policy: cfg.PromotionPrPolicy,
		autoApprove: cfg.AutoApprovePromotionPrs, origin: originEvent(pr, origin, labels),
	}
	planned := plannedEvents(ri, p.Entries)
	if in.facts.DefaultHead == merge && in.src.tree != nil {
		addBases(planned, p.Entries, in.src)
	}
	keys := make([]string, len(planned))
	for i, e := range planned {
		keys[i] = e.Group.Key
	}
	started := &events.PromotionRunStarted{RunID: runID, MergeCommit: merge, HeadSHA: head, Keys: keys, ComponentErrors: bad,
		TrackerComment: cfg.PromotionTrackerComment}
	if err := s.publish(ctx, m.Env, runID, repo, number, started); err != nil {
		return err
	}
	for _, e := range planned {
		if err := s.publish(ctx, m.Env, events.PromotionEntryID(repo, merge, e.Group.Key), repo, number, e); err != nil {
			return err
		}
	}
	log.Info("promotions planned", "run_id", runID, "entries", len(planned), "files", len(files), "component_errors", bad)
	return s.reapplyFinished(ctx, log, runID, run)
}

// finish sets the final status of a run that publishes no entries.
func (s *Service) finish(ctx context.Context, log *slog.Logger, run *statusRun, componentErrors int) {
	if componentErrors > 0 {
		s.finalStatus(ctx, log, run, githubapi.StateError, "invalid component configuration")
		return
	}
	s.finalStatus(ctx, log, run, githubapi.StateSuccess, "")
}

// reportComponentErrors comments the findings of invalid component files.
func (s *Service) reportComponentErrors(ctx context.Context, run *statusRun, repo events.Repo, number int, findings []config.Finding) error {
	if len(findings) == 0 {
		return nil
	}
	body, err := s.render.ConfigError(findings)
	return run.comments.post(ctx, repo, number, body, err)
}

// reapplyFinished covers a redelivered merge that set pending again after
// its run had already finished: the final state is written again.
func (s *Service) reapplyFinished(ctx context.Context, log *slog.Logger, runID string, run *statusRun) error {
	rec, err := s.runs.get(ctx, runID)
	if err != nil || rec == nil || !rec.Finished {
		return nil
	}
	s.finalStatus(ctx, log, run, rec.State, rec.reason())
	return nil
}

// originOf reads the origin PR's promotion metadata, if it has any.
func originOf(log *slog.Logger, pr githubapi.Pull) metadata.Origin {
	o := metadata.Origin{Number: pr.Number, Author: pr.Author}
	md, err := metadata.Extract(pr.Body)
	switch {
	case err == nil:
		o.Metadata = md
	case errors.Is(err, metadata.ErrNoMetadata):
	default:
		log.Info("origin PR metadata unreadable; treated as not a promotion PR", "error", err)
	}
	return o
}
