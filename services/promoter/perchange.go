package promoter

import (
	"context"
	"errors"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// promotePerChange gives each (origin PR, plan entry) its own PR on the
// original's branch name. An existing branch never stops the entry; what
// happens depends on the branch's PR (SPEC §5.13): an open or merged PR is
// adopted and only the missing steps run, a PR closed without merging is
// left alone, and without a PR the branch is reset and the PR opened.
func (s *Service) promotePerChange(ctx context.Context, j *job) (*result, error) {
	branch := j.ev.Branch
	prs, err := s.gh.BranchPulls(ctx, j.repo, branch)
	if err != nil {
		return nil, at("find", err)
	}
	entry := entryOf(j.ev)
	md := j.newMetadata(&entry, j.ev.MergeCommit)
	if pr := pickBranchPull(prs); pr != nil {
		res := &result{outcome: events.OutcomeAdopted, pr: pr, commit: pr.HeadSHA, adopted: true}
		switch {
		case pr.Merged:
			return res, nil
		case pr.State != "open":
			j.log.Info("the branch's PR was closed without merging; left alone", "pr_number", pr.Number)
			return &result{outcome: events.OutcomeRejected, pr: pr, adopted: true}, nil
		}
		return res, s.finishPR(ctx, j, pr, entry.Labels, authors(md), entry.AutoMerge, res)
	}
	head, err := s.defaultHead(ctx, j)
	if err != nil {
		return nil, err
	}
	b, err := s.build(ctx, j, head, j.ev.MergeCommit, &entry)
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
	md.BranchCommit = commit
	title, body, err := j.text(&entry, md, b.notes)
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

// pickBranchPull prefers an open PR, then a merged one, then the newest
// closed one.
func pickBranchPull(prs []Pull) *Pull {
	var merged, closed *Pull
	for i := range prs {
		p := &prs[i]
		switch {
		case p.State == "open":
			return p
		case p.Merged && merged == nil:
			merged = p
		case closed == nil || p.Number > closed.Number:
			closed = p
		}
	}
	if merged != nil {
		return merged
	}
	return closed
}
