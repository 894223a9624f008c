package promoter

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

// promoteSupersede keeps at most one open promotion PR per group: it opens
// one, or updates the open one in place (SPEC §5.12). A PR the original
// Telefonistka left open for the group is folded in: its components
// continue in the group's PR, and it is closed with a link.
func (s *Service) promoteSupersede(ctx context.Context, j *job) (*result, error) {
	head, err := s.defaultHead(ctx, j)
	if err != nil {
		return nil, err
	}
	open, err := s.gh.OpenPulls(ctx, j.repo, j.ev.DefaultBranch)
	if err != nil {
		return nil, at("find", err)
	}
	pr, md := findGroupPR(open, j.ev.Branch, j.ev.Group.Key)
	orig, omd := findOriginalPR(open, j.ev.Group)
	if orig != nil {
		if omd, err = s.fromOriginal(ctx, j, omd); err != nil {
			return nil, err
		}
		if md == nil {
			md = omd
		} else {
			merged := metadata.Merge(*omd, *md)
			md = &merged
		}
	}
	res, err := s.promoteGroup(ctx, j, head, pr, md, orig)
	if err != nil || orig == nil || res == nil {
		return res, err
	}
	switch {
	case res.pr != nil:
		return res, s.closeOriginal(ctx, j, orig, res.pr.Number)
	case res.outcome == events.OutcomeInSync:
		return res, s.closeOriginal(ctx, j, orig, 0)
	}
	return res, nil
}

// promoteGroup opens the group's PR (carrying carried, when an original's
// PR is folded in), or updates pr in place, or replaces it if someone else
// pushed to it.
func (s *Service) promoteGroup(ctx context.Context, j *job, head string, pr *Pull, carried *metadata.Metadata, orig *Pull) (*result, error) {
	if pr == nil {
		replaces := 0
		if orig != nil {
			replaces = orig.Number
		}
		return s.openNew(ctx, j, head, j.ev.Branch, carried, replaces)
	}
	ours := carried.BranchCommit != "" && pr.HeadSHA == carried.BranchCommit
	if !ours {
		var err error
		if ours, err = s.wroteBranch(ctx, j.repo, pr.HeadRef, pr.HeadSHA); err != nil {
			return nil, at("find", err)
		}
	}
	if !ours {
		return s.replaceForeign(ctx, j, head, pr, carried)
	}
	return s.updateOpen(ctx, j, head, pr, carried)
}

// findGroupPR returns the group's open promotion PR: the one whose head is
// the group branch, else one whose metadata names the plan key (a
// replacement on a fallback branch). md is never nil when pr is not.
func findGroupPR(open []Pull, branch, key string) (*Pull, *metadata.Metadata) {
	var byKey *Pull
	var byKeyMD *metadata.Metadata
	for i := range open {
		p := &open[i]
		md, err := metadata.Extract(p.Body)
		if p.HeadRef == branch {
			if err != nil {
				md = &metadata.Metadata{}
			}
			return p, md
		}
		if byKey == nil && err == nil && md.PromotionKey == key && md.Policy != string(config.PolicyPerChange) &&
			strings.HasPrefix(p.HeadRef, branch+"-") {
			byKey, byKeyMD = p, md
		}
	}
	return byKey, byKeyMD
}

// plannedEntry returns the entry to build, as the PR carries it
// (plan.Entry.Carried), and the commit to read it at: the newest (see
// sourceCommit) of the merge commit and what the group already carries. At
// the merge commit with nothing carried, it is the planned entry.
// Otherwise the union of the carried components (an open PR carries
// earlier merges) and the new ones is re-planned, with allow and block
// lists evaluated at that commit.
func (s *Service) plannedEntry(ctx context.Context, j *job, carried *metadata.Metadata) (*plan.Entry, string, error) {
	entry := entryOf(j.ev)
	sourceCommit, err := s.sourceCommit(ctx, j, carried)
	if err != nil {
		return nil, "", err
	}
	if carried == nil && sourceCommit == j.ev.MergeCommit {
		entry = entry.Carried()
		return &entry, sourceCommit, nil
	}
	comps := slices.Clone(entry.Components)
	if carried != nil {
		for _, c := range carried.Components {
			comps = append(comps, plan.Component{SourceDir: c.SourcePath, Name: c.Name})
		}
	}
	src, err := s.trees.get(ctx, j.repo, sourceCommit)
	if err != nil {
		return nil, "", at("build", err)
	}
	rebuilt, errs := plan.EntryFor(entry.Group, comps, j.ev.Labels, s.components.lookup(ctx, j.repo, src))
	if err := readErrors(errs); err != nil {
		return nil, "", at("build", err)
	}
	for _, ce := range errs {
		j.log.Warn("component left out: invalid configuration", "component", ce.ComponentPath, "error", ce.Err)
	}
	rebuilt = rebuilt.Carried()
	return &rebuilt, sourceCommit, nil
}

// sourceCommit returns the commit the group's sources are read at: the
// newest, by ancestry on the default branch, of this merge commit, the
// source commit the open PR records, and the newest source commit the
// group was built at before (its record outlives the PR, so it still
// counts once that PR is merged or closed). An older merge handled late (a
// retry after a fault, a restart, or just scheduled after a newer one)
// therefore never moves the targets back.
func (s *Service) sourceCommit(ctx context.Context, j *job, carried *metadata.Metadata) (string, error) {
	var known []string
	if carried != nil && carried.SourceCommit != "" {
		known = append(known, carried.SourceCommit)
	}
	rec, err := s.groups.get(ctx, groupRecordKey(j.repo, j.ev.Group.Key))
	if err != nil {
		return "", at("build", err)
	}
	if rec != nil && rec.SourceCommit != "" {
		known = append(known, rec.SourceCommit)
	}
	newest := j.ev.MergeCommit
	for _, c := range known {
		if c == newest {
			continue
		}
		newer, err := s.isNewer(ctx, j, c, newest)
		if err != nil {
			return "", err
		}
		if newer {
			newest = c
		}
	}
	return newest, nil
}

// isNewer reports whether commit c comes after base on the default branch
// (base is its ancestor). Commits GitHub no longer knows, or that diverged
// (a rewritten history), are not newer.
func (s *Service) isNewer(ctx context.Context, j *job, c, base string) (bool, error) {
	status, err := s.gh.Compare(ctx, j.repo, base, c)
	if err != nil {
		if githubapi.IsNotFound(err) {
			return false, nil
		}
		return false, at("build", err)
	}
	return status == "ahead", nil
}

// recordSource remembers that the group was built at sourceCommit (the
// newest it has seen, by construction), before anything is written from it.
func (s *Service) recordSource(ctx context.Context, j *job, sourceCommit string) error {
	return at("build", s.groups.put(ctx, groupRecordKey(j.repo, j.ev.Group.Key), &groupRecord{SourceCommit: sourceCommit}))
}

// openNew builds the promotion on branch and opens its PR. carried is the
// metadata of a PR being replaced (its components and origins continue in
// the new one), or nil; replaces is that PR's number, or 0.
func (s *Service) openNew(ctx context.Context, j *job, head, branch string, carried *metadata.Metadata, replaces int) (*result, error) {
	entry, sourceCommit, err := s.plannedEntry(ctx, j, carried)
	if err != nil {
		return nil, err
	}
	b, err := s.build(ctx, j, head, sourceCommit, entry)
	if err != nil {
		return nil, err
	}
	if err := s.recordSource(ctx, j, sourceCommit); err != nil {
		return nil, err
	}
	if b.inSync {
		return &result{outcome: events.OutcomeInSync}, nil
	}
	commit, err := s.writeBranch(ctx, j, branch, b, "")
	if err != nil {
		return nil, err
	}
	md := j.metadataFor(entry, sourceCommit, carried)
	md.BranchCommit = commit
	title, body, err := j.text(entry, md, b.notes)
	if err != nil {
		return nil, err
	}
	res := &result{outcome: events.OutcomeOpened, commit: commit, replaces: replaces}
	pr, err := s.createPull(ctx, j, title, branch, body)
	if errors.Is(err, githubapi.ErrPullExists) {
		pr, err = s.adoptOpen(ctx, j, branch, title, body)
		res.adopted = true
	}
	if err != nil {
		return nil, at("open", err)
	}
	res.pr = &pr
	if err := s.rememberOpened(ctx, j, res); err != nil {
		return nil, err
	}
	return res, s.finishPR(ctx, j, &pr, commit, entry, md, res)
}

// adoptOpen finds the open PR of branch (one was opened by an earlier
// attempt) and gives it the current title and body.
func (s *Service) adoptOpen(ctx context.Context, j *job, branch, title, body string) (Pull, error) {
	prs, err := s.gh.BranchPulls(ctx, j.repo, branch, "all")
	if err != nil {
		return Pull{}, err
	}
	for _, p := range prs {
		if p.State == "open" {
			if p.Body != body {
				if err := s.gh.EditPull(ctx, j.repo, p.Number, title, body); err != nil {
					return Pull{}, err
				}
				p.Body = body
			}
			return p, nil
		}
	}
	return Pull{}, errors.New("GitHub says a PR is open for " + branch + " but lists none")
}

// updateOpen updates the group's open PR in place: union of components and
// origins, rebuilt from the current default branch head.
func (s *Service) updateOpen(ctx context.Context, j *job, head string, pr *Pull, carried *metadata.Metadata) (*result, error) {
	entry, sourceCommit, err := s.plannedEntry(ctx, j, carried)
	if err != nil {
		return nil, err
	}
	b, err := s.build(ctx, j, head, sourceCommit, entry)
	if err != nil {
		return nil, err
	}
	if err := s.recordSource(ctx, j, sourceCommit); err != nil {
		return nil, err
	}
	if b.inSync {
		body, rerr := s.render.InSync()
		if rerr != nil {
			return nil, at("close", rerr)
		}
		if err := s.comment(ctx, j.repo, pr.Number, body); err != nil {
			return nil, at("close", err)
		}
		if err := s.gh.ClosePull(ctx, j.repo, pr.Number); err != nil {
			return nil, at("close", err)
		}
		return &result{outcome: events.OutcomeInSync, closedPR: pr.Number}, nil
	}
	commit, err := s.writeBranch(ctx, j, pr.HeadRef, b, pr.HeadSHA)
	if err != nil {
		return nil, err
	}
	md := j.metadataFor(entry, sourceCommit, carried)
	md.BranchCommit = commit
	title, body, err := j.text(entry, md, b.notes)
	if err != nil {
		return nil, err
	}
	if body != pr.Body {
		if err := s.gh.EditPull(ctx, j.repo, pr.Number, title, body); err != nil {
			return nil, at("update", err)
		}
		pr.Body = body
	}
	pr.HeadSHA = commit
	res := &result{outcome: events.OutcomeUpdated, pr: pr, commit: commit, sourceCommit: sourceCommit, originPRs: md.OriginPrs}
	return res, s.finishPR(ctx, j, pr, commit, entry, md, res)
}

// replaceForeign handles an open group PR someone else pushed to: it is not
// overwritten but closed, with a link to a new PR on a fallback branch that
// carries its components and origins.
func (s *Service) replaceForeign(ctx context.Context, j *job, head string, old *Pull, carried *metadata.Metadata) (*result, error) {
	branch := prtext.SupersedeFallbackBranch(j.ev.Branch, j.ev.MergeCommit)
	if branch == old.HeadRef {
		branch += "-2"
	}
	j.log.Info("someone else pushed to the promotion PR; opening a replacement", "old_pr", old.Number, "new_branch", branch)
	res, err := s.openNew(ctx, j, head, branch, carried, old.Number)
	if err != nil || res.pr == nil {
		return res, err // in sync: the other PR is left alone
	}
	body, rerr := s.render.Superseded(res.pr.Number)
	if rerr != nil {
		return res, at("close", rerr)
	}
	if err := s.comment(ctx, j.repo, old.Number, body); err != nil {
		return res, at("close", err)
	}
	return res, at("close", s.gh.ClosePull(ctx, j.repo, old.Number))
}
