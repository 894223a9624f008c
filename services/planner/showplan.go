package planner

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/comments"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// handleShowPlan comments the plan of an open PR as if it were merged,
// when a label is added while the PR has the show-plan label. The repo
// configuration comes from the default branch head, component
// configurations and sources from the PR head.
func (s *Service) handleShowPlan(ctx context.Context, log *slog.Logger, repo events.Repo, ev *github.PullRequestEvent, run *statusRun) error {
	pr := ev.GetPullRequest()
	labels := labelNames(pr.Labels)
	if pr.GetState() != "open" || !slices.Contains(labels, ShowPlanLabel) {
		return nil
	}
	number, head := pr.GetNumber(), pr.GetHead().GetSHA()
	defaultBranch := ev.GetRepo().GetDefaultBranch()
	base, err := s.gh.BranchHead(ctx, repo, defaultBranch)
	if err != nil {
		return err
	}
	cfg, found, err := s.configs.repoConfig(ctx, repo, base)
	var cfgErr *config.Error
	if err != nil && !errors.As(err, &cfgErr) {
		return err
	}
	if !found {
		log.Debug("no telefonistka.yaml on the default branch; no plan to show")
		return nil
	}
	run.start(repo, number, head)
	if err := s.gh.SetStatus(ctx, repo, number, head, githubapi.StatePending, ""); err != nil {
		return err
	}
	if cfgErr != nil {
		body, rerr := s.render.ConfigError(cfgErr.Findings)
		return s.reject(ctx, log, run, "invalid "+config.RepoFileName, body, rerr)
	}
	files, listed, err := s.gh.PullFiles(ctx, repo, number)
	if err != nil {
		return err
	}
	if listed >= MaxListedFiles || pr.GetChangedFiles() > listed {
		body, rerr := s.render.TooLargePR(MaxListedFiles)
		return s.reject(ctx, log, run, "too many changed files to plan", body, rerr)
	}
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: files, Labels: labels, Components: s.configs.lookup(ctx, repo, head)})
	findings, bad, readErr := splitComponentErrors(p.ComponentErrors)
	if readErr != nil {
		return readErr
	}
	body, err := s.planComment(ctx, repo, head, base, p)
	if err != nil {
		return err
	}
	if err := s.reportComponentErrors(ctx, repo, number, findings); err != nil {
		return err
	}
	if err := s.gh.Comment(ctx, repo, number, body); err != nil {
		return err
	}
	log.Info("plan commented", "entries", len(p.Entries))
	s.finish(ctx, log, run, bad)
	return nil
}

// dryRunComment renders the dry-run comment of a merge: sources at the
// merge commit, compared with the default branch head.
func (s *Service) dryRunComment(ctx context.Context, repo events.Repo, merge, defaultBranch string, p *plan.Plan) (string, error) {
	base := merge
	if len(p.Entries) > 0 {
		head, err := s.gh.BranchHead(ctx, repo, defaultBranch)
		if err != nil {
			return "", err
		}
		base = head
	}
	return s.planComment(ctx, repo, merge, base, p)
}

// planComment renders the plan comment with what the trees say: entries
// already in sync, and fan-in duplicates whose sources differ.
func (s *Service) planComment(ctx context.Context, repo events.Repo, sourceCommit, baseCommit string, p *plan.Plan) (string, error) {
	planned := make([]comments.Planned, len(p.Entries))
	if len(p.Entries) > 0 {
		src, err := s.gh.Tree(ctx, repo, sourceCommit)
		if err != nil {
			return "", err
		}
		baseTree := src
		if baseCommit != sourceCommit {
			if baseTree, err = s.gh.Tree(ctx, repo, baseCommit); err != nil {
				return "", err
			}
		}
		srcIx, baseIx := treesync.NewIndex(src), treesync.NewIndex(baseTree)
		for i := range p.Entries {
			e := &p.Entries[i]
			title, _ := prtext.Title(e.ComponentNames(), e.TargetDescription)
			planned[i] = comments.Planned{
				Entry:               e,
				AlreadyInSync:       treesync.Compute(baseIx, srcIx, syncPairs(e.Sync)).InSync,
				DifferingDuplicates: differing(srcIx, e.Duplicates),
				Title:               title,
			}
		}
	}
	body, err := s.render.DryRun(planned)
	if err != nil {
		return "", bus.Permanent(err)
	}
	return body, nil
}

func syncPairs(ps []plan.SyncPair) []treesync.Pair {
	out := make([]treesync.Pair, len(ps))
	for i, p := range ps {
		out[i] = treesync.Pair{Source: p.Source(), Target: p.Target()}
	}
	return out
}

// differing returns the duplicates whose winner and loser sources differ.
func differing(src *treesync.Index, dups []plan.DuplicateTarget) []plan.DuplicateTarget {
	var out []plan.DuplicateTarget
	for _, d := range dups {
		if !src.SameContent(d.Winner.Source(), d.Loser.Source()) {
			out = append(out, d)
		}
	}
	return out
}
