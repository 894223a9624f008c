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
	pr := githubapi.PullOf(ev.GetPullRequest())
	labels := pr.Labels
	if pr.State != "open" || !slices.Contains(labels, ShowPlanLabel) {
		return nil
	}
	number, head := pr.Number, pr.HeadSHA
	defaultBranch := ev.GetRepo().GetDefaultBranch()
	base, err := branchHead(ctx, s.gh, repo, defaultBranch)
	if err != nil {
		return err
	}
	baseFiles, err := s.commitFiles(ctx, repo, base)
	if err != nil {
		return err
	}
	cfg, found, err := s.configs.repoConfig(ctx, baseFiles)
	var cfgErr *config.Error
	if err != nil && !errors.As(err, &cfgErr) {
		return err
	}
	if !found {
		log.Debug("no telefonistka.yaml on the default branch; no plan to show")
		return nil
	}
	run.start(repo, number, head)
	if cfgErr != nil {
		body, rerr := s.render.ConfigError(cfgErr.Findings)
		return s.reject(ctx, log, run, "invalid "+config.RepoFileName, body, rerr)
	}
	listed, err := s.gh.PullFiles(ctx, repo, number)
	if err != nil {
		return err
	}
	if len(listed) >= MaxListedFiles || pr.ChangedFiles > len(listed) {
		body, rerr := s.render.TooLargePR(MaxListedFiles)
		return s.reject(ctx, log, run, "too many changed files to plan", body, rerr)
	}
	headFiles, err := s.commitFiles(ctx, repo, head)
	if err != nil {
		return err
	}
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: changedNames(listed), Labels: labels, Components: s.configs.lookup(ctx, headFiles)})
	findings, bad, readErr := splitComponentErrors(p.ComponentErrors)
	if readErr != nil {
		return readErr
	}
	body, err := s.planComment(ctx, headFiles, baseFiles, p)
	if err != nil {
		return err
	}
	if err := s.reportComponentErrors(ctx, run, repo, number, findings); err != nil {
		return err
	}
	if err := run.comments.post(ctx, repo, number, body, nil); err != nil {
		return err
	}
	log.Info("plan commented", "entries", len(p.Entries))
	s.finish(ctx, log, run, bad)
	return nil
}

// planComment renders the plan comment with what the trees say: entries
// already in sync, and fan-in duplicates whose sources differ. A tree
// GitHub truncated is read again for the plan's directories only.
func (s *Service) planComment(ctx context.Context, src, base commitFiles, p *plan.Plan) (string, error) {
	planned := make([]comments.Planned, len(p.Entries))
	if len(p.Entries) > 0 {
		dirs := planDirs(p)
		srcTree, err := s.planTree(ctx, src, dirs)
		if err != nil {
			return "", err
		}
		baseTree, err := s.planTree(ctx, base, dirs)
		if err != nil {
			return "", err
		}
		srcIx, baseIx := treesync.NewIndex(srcTree), treesync.NewIndex(baseTree)
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

// planTree is f's tree, or the part of it under dirs when GitHub truncated it.
func (s *Service) planTree(ctx context.Context, f commitFiles, dirs []string) (treesync.Tree, error) {
	if f.tree != nil {
		return f.tree.Entries, nil
	}
	t, err := s.gh.Tree(ctx, f.repo, f.commit, dirs)
	if err != nil {
		return nil, err
	}
	return t.Entries, nil
}

// planDirs are the directories a plan comment compares: every source and
// target of every entry, and the sources of fan-in duplicates (what a tree
// GitHub truncates is read for).
func planDirs(p *plan.Plan) []string {
	var dirs []string
	for i := range p.Entries {
		for _, sp := range p.Entries[i].Sync {
			dirs = append(dirs, sp.Source(), sp.Target())
		}
		for _, d := range p.Entries[i].Duplicates {
			dirs = append(dirs, d.Winner.Source(), d.Loser.Source())
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
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
