package promoter

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

// promoteSupersede keeps at most one open promotion PR per group: it opens
// one, or updates the open one in place (SPEC §5.12).
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
	if pr == nil {
		return s.openNew(ctx, j, head, j.ev.Branch, nil)
	}
	ours := md.BranchCommit != "" && pr.HeadSHA == md.BranchCommit
	if !ours {
		if ours, err = s.wroteBranch(ctx, j.repo, pr.HeadRef, pr.HeadSHA); err != nil {
			return nil, at("find", err)
		}
	}
	if !ours {
		return s.replaceForeign(ctx, j, head, pr, md)
	}
	return s.updateOpen(ctx, j, head, pr, md)
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

// plannedEntry returns the entry to build and the commit to read it at.
// Without carried metadata it is the planned entry at the merge commit.
// With it (an open PR carries earlier merges), the union of carried and new
// components is re-planned, with allow and block lists evaluated at the
// newer (by ancestry) of the carried source commit and the merge commit.
func (s *Service) plannedEntry(ctx context.Context, j *job, carried *metadata.Metadata) (*plan.Entry, string, error) {
	entry := entryOf(j.ev)
	if carried == nil {
		return &entry, j.ev.MergeCommit, nil
	}
	sourceCommit, err := s.newerCommit(ctx, j, carried.SourceCommit)
	if err != nil {
		return nil, "", err
	}
	comps := slices.Clone(entry.Components)
	for _, c := range carried.Components {
		comps = append(comps, plan.Component{SourceDir: c.SourcePath, Name: c.Name})
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
	return &rebuilt, sourceCommit, nil
}

// newerCommit returns the newer, by ancestry on the default branch, of the
// carried source commit and the merge commit, so a replayed older merge
// never moves a PR back.
func (s *Service) newerCommit(ctx context.Context, j *job, carried string) (string, error) {
	merge := j.ev.MergeCommit
	if carried == "" || carried == merge {
		return merge, nil
	}
	status, err := s.gh.Compare(ctx, j.repo, carried, merge)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return merge, nil
		}
		return "", at("build", err)
	}
	if status == "behind" {
		return carried, nil
	}
	return merge, nil
}

// openNew builds the promotion on branch and opens its PR. carried is the
// metadata of a PR being replaced (its components and origins continue in
// the new one), or nil.
func (s *Service) openNew(ctx context.Context, j *job, head, branch string, carried *metadata.Metadata) (*result, error) {
	entry, sourceCommit, err := s.plannedEntry(ctx, j, carried)
	if err != nil {
		return nil, err
	}
	b, err := s.build(ctx, j, head, sourceCommit, entry)
	if err != nil {
		return nil, err
	}
	if b.inSync {
		return &result{outcome: events.OutcomeInSync}, nil
	}
	commit, err := s.writeBranch(ctx, j, branch, b, "")
	if err != nil {
		return nil, err
	}
	md := j.newMetadata(entry, sourceCommit)
	if carried != nil {
		md = metadata.Merge(*carried, md)
	}
	md.BranchCommit = commit
	title, body, err := j.text(entry, md, b.notes)
	if err != nil {
		return nil, err
	}
	res := &result{outcome: events.OutcomeOpened, commit: commit}
	pr, err := s.gh.CreatePull(ctx, j.repo, title, branch, j.ev.DefaultBranch, body)
	if errors.Is(err, ErrPullExists) {
		pr, err = s.adoptOpen(ctx, j, branch, title, body)
		res.adopted = true
	}
	if err != nil {
		return nil, at("open", err)
	}
	res.pr = &pr
	return res, s.finishPR(ctx, j, &pr, entry.Labels, authors(md), entry.AutoMerge, res)
}

// adoptOpen finds the open PR of branch (one was opened by an earlier
// attempt) and gives it the current title and body.
func (s *Service) adoptOpen(ctx context.Context, j *job, branch, title, body string) (Pull, error) {
	prs, err := s.gh.BranchPulls(ctx, j.repo, branch)
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
	if b.inSync {
		body, rerr := s.render.InSync()
		if rerr != nil {
			return nil, at("close", rerr)
		}
		if err := s.gh.Comment(ctx, j.repo, pr.Number, body); err != nil {
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
	md := metadata.Merge(*carried, j.newMetadata(entry, sourceCommit))
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
	return res, s.finishPR(ctx, j, pr, entry.Labels, authors(md), entry.AutoMerge, res)
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
	res, err := s.openNew(ctx, j, head, branch, carried)
	if err != nil || res.pr == nil {
		return res, err // in sync: the other PR is left alone
	}
	res.replaces = old.Number
	body, rerr := s.render.Superseded(res.pr.Number)
	if rerr != nil {
		return res, at("close", rerr)
	}
	if err := s.gh.Comment(ctx, j.repo, old.Number, body); err != nil {
		return res, at("close", err)
	}
	return res, at("close", s.gh.ClosePull(ctx, j.repo, old.Number))
}
