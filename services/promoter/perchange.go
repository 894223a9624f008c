package promoter

import (
	"context"
	"errors"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
)

// promotePerChange gives each (origin PR, plan entry) its own PR on the
// original's branch name. An existing branch never stops the entry; what
// happens depends on the branch's PR (SPEC §5.13): an open or merged PR is
// adopted and only the missing steps run, a PR closed without merging is
// left alone, and without a PR the branch is reset and the PR opened.
func (s *Service) promotePerChange(ctx context.Context, j *job) (*result, error) {
	branch := j.ev.Branch
	entry := entryOf(j.ev).Carried()
	md := j.newMetadata(&entry, j.ev.MergeCommit)
	if !j.recovering {
		// A first attempt opens the PR without looking for one: the branch
		// is the change's own and new. Should it exist after all, it is
		// looked at as a retry would.
		j.freshBranch = true
		res, err := s.openPerChange(ctx, j, branch, &entry, md)
		j.freshBranch = false
		if !errors.Is(err, errBranchTaken) {
			return res, err
		}
		j.recovering = true
	}
	prs, err := s.gh.BranchPulls(ctx, j.repo, branch, "all")
	if err != nil {
		return nil, at("find", err)
	}
	if pr := pickBranchPull(prs); pr != nil {
		res := &result{outcome: events.OutcomeAdopted, pr: pr, commit: pr.HeadSHA, adopted: true}
		switch {
		case pr.Merged:
			return res, nil
		case pr.State != "open":
			j.log.Info("the branch's PR was closed without merging; left alone", "pr_number", pr.Number)
			return &result{outcome: events.OutcomeRejected, pr: pr, adopted: true}, nil
		}
		ours, err := s.ourCommit(ctx, j, pr)
		if err != nil {
			return nil, at("find", err)
		}
		return res, s.finishPR(ctx, j, pr, ours, &entry, md, res)
	}
	return s.openPerChange(ctx, j, branch, &entry, md)
}

// errBranchTaken: a first attempt found the branch it meant to create.
var errBranchTaken = errors.New("the promotion branch exists")

// openPerChange builds the sync, writes the branch and opens the PR.
func (s *Service) openPerChange(ctx context.Context, j *job, branch string, entry *plan.Entry, md metadata.Metadata) (*result, error) {
	head, err := s.defaultHead(ctx, j)
	if err != nil {
		return nil, err
	}
	b, err := s.build(ctx, j, head, j.ev.MergeCommit, entry)
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
	title, body, err := j.text(entry, md, b.notes)
	if err != nil {
		return nil, err
	}
	res := &result{outcome: events.OutcomeOpened, commit: commit}
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

// ourCommit returns the commit the promoter wrote to an adopted PR's
// branch: its head when the PR's metadata or the branch record says so,
// else the commit the metadata names ("" if none), which differs from the
// head, so the PR is not approved or merged automatically.
func (s *Service) ourCommit(ctx context.Context, j *job, pr *Pull) (string, error) {
	var recorded string
	if md, err := metadata.Extract(pr.Body); err == nil {
		recorded = md.BranchCommit
	}
	if recorded == pr.HeadSHA {
		return recorded, nil
	}
	wrote, err := s.wroteBranch(ctx, j.repo, pr.HeadRef, pr.HeadSHA)
	if err != nil || wrote {
		return pr.HeadSHA, err
	}
	return recorded, nil
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
