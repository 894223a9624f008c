package promoter

import (
	"context"
	"errors"
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// built is a computed sync: the tree to commit on top of the default
// branch head.
type built struct {
	head   string // default branch head: the commit's parent
	tree   string // the new tree; "" when in sync
	inSync bool
	label  string   // the entry's source label, for the commit message
	notes  []string // fan-in notes for the body
}

// defaultHead resolves the default branch head.
func (s *Service) defaultHead(ctx context.Context, j *job) (string, error) {
	sha, found, err := s.gh.BranchHead(ctx, j.repo, j.ev.DefaultBranch)
	if err != nil {
		return "", at("build", err)
	}
	if !found {
		return "", at("build", fmt.Errorf("default branch %s of %s does not exist", j.ev.DefaultBranch, j.repo))
	}
	return sha, nil
}

// build computes the sync of entry's pairs from sourceCommit onto head and
// creates its tree (one tree read per commit, cached; one create-tree).
func (s *Service) build(ctx context.Context, j *job, head, sourceCommit string, entry *plan.Entry) (*built, error) {
	src, err := s.trees.get(ctx, j.repo, sourceCommit)
	if err != nil {
		return nil, at("build", err)
	}
	base, err := s.trees.get(ctx, j.repo, head)
	if err != nil {
		return nil, at("build", err)
	}
	pairs := make([]treesync.Pair, len(entry.Sync))
	for i, p := range entry.Sync {
		pairs[i] = treesync.Pair{Source: p.Source(), Target: p.Target()}
	}
	res := treesync.Compute(base.ix, src.ix, pairs)
	b := &built{head: head, inSync: res.InSync, label: entry.SourceLabel()}
	for _, d := range entry.Duplicates {
		if !src.ix.SameContent(d.Winner.Source(), d.Loser.Source()) {
			b.notes = append(b.notes, d.Note())
		}
	}
	if res.InSync {
		return b, nil
	}
	if b.tree, err = s.gh.CreateTree(ctx, j.repo, base.sha, res.Changes); err != nil {
		return nil, at("build", err)
	}
	return b, nil
}

// writeBranch points branch at a commit holding b.tree. knownHead is the
// branch's head when the caller knows it. An existing branch commit with the
// same tree is kept, so a restarted or replayed promotion makes no second
// commit; otherwise a new commit is made and the branch forced to it.
func (s *Service) writeBranch(ctx context.Context, j *job, branch string, b *built, knownHead string) (string, error) {
	current := knownHead
	if current == "" && j.recovering {
		sha, found, err := s.gh.BranchHead(ctx, j.repo, branch)
		if err != nil {
			return "", at("commit", err)
		}
		if found {
			current = sha
		}
	}
	if current != "" {
		if same, err := s.sameTree(ctx, j, current, b.tree); err != nil || same {
			return current, err
		}
	}
	commit, err := s.gh.CreateCommit(ctx, j.repo, prtext.CommitMessage(b.label), b.tree, []string{b.head})
	if err != nil {
		return "", at("commit", err)
	}
	// Remember the commit before the branch moves: a head equal to it is
	// ours even if the PR body is not rewritten yet.
	if err := s.branches.put(ctx, branchKey(j.repo, branch), &branchRecord{Commit: commit}); err != nil {
		return "", at("commit", err)
	}
	if current != "" {
		return commit, at("ref", s.gh.ForceBranch(ctx, j.repo, branch, commit))
	}
	err = s.gh.CreateBranch(ctx, j.repo, branch, commit)
	if !errors.Is(err, ErrBranchExists) {
		return commit, at("ref", err)
	}
	// A leftover branch: keep it if it already holds this tree.
	sha, found, err := s.gh.BranchHead(ctx, j.repo, branch)
	if err != nil {
		return "", at("ref", err)
	}
	if found {
		if same, err := s.sameTree(ctx, j, sha, b.tree); err != nil || same {
			return sha, at("ref", err)
		}
	}
	return commit, at("ref", s.gh.ForceBranch(ctx, j.repo, branch, commit))
}

func (s *Service) sameTree(ctx context.Context, j *job, commit, treeSHA string) (bool, error) {
	t, err := s.gh.CommitTree(ctx, j.repo, commit)
	if err != nil {
		return false, at("commit", err)
	}
	return t == treeSHA, nil
}

// wroteBranch reports whether the promoter wrote head to branch.
func (s *Service) wroteBranch(ctx context.Context, repo events.Repo, branch, head string) (bool, error) {
	rec, err := s.branches.get(ctx, branchKey(repo, branch))
	if err != nil || rec == nil {
		return false, err
	}
	return rec.Commit == head, nil
}

// entryOf rebuilds the plan entry the planner computed.
func entryOf(ev *events.PromotionPlanned) plan.Entry {
	e := plan.Entry{
		Group: plan.Group{
			SourcePath: ev.Group.SourcePath, FlowIndex: ev.Group.FlowIndex, Targets: ev.Group.Targets,
			RawTargets: ev.Group.RawTargets, TargetDescription: ev.Group.TargetDescription, AutoMerge: ev.AutoMerge,
		},
		Key:    ev.Group.Key,
		Labels: ev.Labels,
	}
	for _, c := range ev.Components {
		e.Components = append(e.Components, plan.Component{SourceDir: c.SourceDir, Name: c.Name})
	}
	for _, p := range ev.Sync {
		e.Sync = append(e.Sync, syncPair(p))
	}
	for _, p := range ev.Skipped {
		e.Skipped = append(e.Skipped, syncPair(p))
	}
	for _, d := range ev.Duplicates {
		e.Duplicates = append(e.Duplicates, plan.DuplicateTarget{Winner: syncPair(d.Winner), Loser: syncPair(d.Loser)})
	}
	return e
}

func syncPair(p events.PromotionPair) plan.SyncPair {
	return plan.SyncPair{SourceDir: p.SourceDir, TargetDir: p.TargetDir, Component: p.Component}
}

// origin is the event's origin PR as pkg/plan/metadata sees it.
func (j *job) origin() metadata.Origin {
	o := j.ev.Origin
	history := make(map[string]metadata.PromotionPath, len(o.History))
	for k, v := range o.History {
		history[k] = metadata.PromotionPath{SourcePath: v.SourcePath, TargetPaths: v.TargetPaths}
	}
	return metadata.Origin{Number: o.Number, Author: o.Author, Metadata: &metadata.Metadata{
		OriginalPrNumber: o.OriginalPrNumber, OriginalPrAuthors: o.OriginalPrAuthors, PreviousPromotionPaths: history,
	}}
}

// newMetadata is the metadata of a promotion of entry at sourceCommit
// caused by the job's origin.
func (j *job) newMetadata(entry *plan.Entry, sourceCommit string) metadata.Metadata {
	comps := make([]metadata.ComponentRef, len(entry.Components))
	for i, c := range entry.Components {
		comps[i] = metadata.ComponentRef{SourcePath: c.SourceDir, Name: c.Name}
	}
	return metadata.Build(metadata.Promotion{
		Key: entry.Key, SourceLabel: entry.SourceLabel(), Targets: entry.Targets, PromotedPaths: entry.PromotedPaths(),
		Components: comps, SourceCommit: sourceCommit, Policy: j.ev.Policy,
	}, []metadata.Origin{j.origin()})
}

// text renders the PR title and body.
func (j *job) text(entry *plan.Entry, md metadata.Metadata, notes []string) (string, string, error) {
	names := entry.ComponentNames()
	title, overflow := prtext.Title(names, entry.TargetDescription)
	in := prtext.BodyInput{ComponentNames: names, TitleOverflow: overflow, Metadata: md, SkipSet: entry.SkipSet(), Notes: notes}
	if j.ev.Policy != string(config.PolicyPerChange) && len(md.OriginPrs) > 1 {
		in.IncludesOrigins = md.OriginPrs
	}
	body, err := prtext.Body(in)
	if err != nil {
		return "", "", at("open", err)
	}
	return title, body, nil
}

// authors are the assignees of the promotion PR.
func authors(md metadata.Metadata) []string {
	if len(md.OriginalPrAuthors) > 0 {
		return md.OriginalPrAuthors
	}
	if md.OriginalPrAuthor != "" {
		return []string{md.OriginalPrAuthor}
	}
	return nil
}
