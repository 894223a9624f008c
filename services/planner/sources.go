package planner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// commitFiles returns the files of commit: its recursive tree, read once
// per commit (cached), or the contents API when GitHub truncates the tree.
func (s *Service) commitFiles(ctx context.Context, repo events.Repo, commit string) (commitFiles, error) {
	t, err := s.trees.Get(repo.String()+"@"+commit, func() (*githubapi.Tree, error) {
		t, err := s.gh.Tree(ctx, repo, commit, nil)
		if err != nil {
			return nil, err
		}
		return &t, nil
	})
	var tooLarge *githubapi.TreeTooLargeError
	if errors.As(err, &tooLarge) {
		return commitFiles{repo: repo, commit: commit}, nil
	}
	if err != nil {
		return commitFiles{}, err
	}
	return commitFiles{repo: repo, commit: commit, tree: t}, nil
}

// mergeInputs is what GitHub says about a merge, read at once.
type mergeInputs struct {
	facts githubapi.PullFacts
	files []githubapi.ChangedFile
	// src are the files of the merge commit GitHub names.
	src    commitFiles
	cfg    *config.RepoConfig
	cfgErr *config.Error
}

// mergeInputs reads, concurrently, GitHub's facts of PR number with the
// default branch head, the PR's files, and the tree and repository
// configuration of merge, the payload's merge commit (src, when the tree
// was read already). The signature says the payload came from GitHub, not
// that it describes the PR as it is (a replayed or crafted delivery): the
// PR must be merged into the default branch and its merge commit be on it
// (the branch head, or an ancestor of it). It returns nil when GitHub does
// not confirm the merge, or the merge commit has no telefonistka.yaml.
func (s *Service) mergeInputs(ctx context.Context, log *slog.Logger, repo events.Repo, number int, merge string, src *commitFiles) (*mergeInputs, error) {
	in := &mergeInputs{}
	var cfgErr error
	var found bool
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		in.facts, err = s.gh.PullFacts(gctx, repo, number)
		if err != nil {
			return fmt.Errorf("confirming the merge: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		in.files, err = s.gh.PullFiles(gctx, repo, number)
		return err
	})
	g.Go(func() error {
		if src != nil {
			in.src = *src
		} else {
			var err error
			if in.src, err = s.commitFiles(gctx, repo, merge); err != nil {
				return err
			}
		}
		in.cfg, found, cfgErr = s.configs.repoConfig(gctx, in.src)
		return readError(cfgErr)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	pr := in.facts.Pull
	onDefault, err := s.onDefaultBranch(ctx, repo, in.facts)
	if err != nil {
		return nil, err
	}
	if !pr.Merged || pr.BaseRef != pr.DefaultBranch || !onDefault {
		log.Warn("the delivery says the PR was merged into the default branch, GitHub does not; not promoted",
			"merged", pr.Merged, "base", pr.BaseRef, "default_branch", pr.DefaultBranch,
			"merge_commit", pr.MergeCommit, "on_default_branch", onDefault, "payload_merge_commit", merge)
		return nil, nil
	}
	if pr.MergeCommit != merge {
		// GitHub's merge commit, not the payload's, is promoted.
		if in.src, err = s.commitFiles(ctx, repo, pr.MergeCommit); err != nil {
			return nil, err
		}
		if in.cfg, found, cfgErr = s.configs.repoConfig(ctx, in.src); readError(cfgErr) != nil {
			return nil, readError(cfgErr)
		}
	}
	s.configured.Add(repo.String(), found)
	if !found {
		log.Debug("no telefonistka.yaml at the merge commit; nothing to promote")
		return nil, nil
	}
	errors.As(cfgErr, &in.cfgErr)
	return in, nil
}

// readError is err unless it is a configuration error (reported on the PR).
func readError(err error) error {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return nil
	}
	return err
}

// onDefaultBranch reports whether the PR's merge commit is on the default
// branch: it is its head (right after the merge, no further call), or the
// head is ahead of it.
func (s *Service) onDefaultBranch(ctx context.Context, repo events.Repo, f githubapi.PullFacts) (bool, error) {
	merge := f.Pull.MergeCommit
	switch {
	case merge == "" || f.DefaultHead == "":
		return false, nil
	case merge == f.DefaultHead:
		return true, nil
	}
	status, err := s.gh.Compare(ctx, repo, merge, f.DefaultHead)
	switch {
	case githubapi.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking that %s is on %s: %w", merge, f.Pull.DefaultBranch, err)
	}
	return status == "identical" || status == "ahead", nil
}

// headFiles are the files of the default branch head of a merge (the
// merge's own when it is the head).
func (s *Service) headFiles(ctx context.Context, in *mergeInputs) (commitFiles, error) {
	if in.facts.DefaultHead == in.src.commit {
		return in.src, nil
	}
	return s.commitFiles(ctx, in.src.repo, in.facts.DefaultHead)
}

// maxPlannedChanges bounds the changes a planned event carries; a larger
// sync is computed by the promoter.
const maxPlannedChanges = 5000

// addBases gives each planned event the sync of its entry computed on src,
// the merge commit that is also the default branch head: the promoter's
// first attempt then writes it without reading trees.
func addBases(planned []*events.PromotionPlanned, entries []plan.Entry, src commitFiles) {
	ix := treesync.NewIndex(src.tree.Entries)
	for i := range entries {
		e := &entries[i]
		res := treesync.Compute(ix, ix, syncPairs(e.Sync))
		if len(res.Changes) > maxPlannedChanges {
			continue
		}
		b := &events.PromotionBase{Commit: src.commit, Tree: src.tree.SHA, InSync: res.InSync}
		for _, c := range res.Changes {
			b.Changes = append(b.Changes, events.PromotionChange{Path: c.Path, Mode: c.Mode, Type: c.Type, SHA: c.SHA, Delete: c.Delete})
		}
		for _, d := range differing(ix, e.Duplicates) {
			b.Notes = append(b.Notes, d.Note())
		}
		planned[i].Base = b
	}
}
