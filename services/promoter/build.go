package promoter

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
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

// createPull opens the promotion PR from branch into the default branch. A
// first attempt that took the head from the planner and is refused learns
// whether the default branch is gone (deleted or renamed since the merge),
// to report that rather than GitHub's refusal.
func (s *Service) createPull(ctx context.Context, j *job, title, branch, body string) (Pull, error) {
	pr, err := s.gh.CreatePull(ctx, j.repo, title, branch, j.ev.DefaultBranch, body)
	if err != nil && bus.IsPermanent(err) && j.ev.Base != nil && !j.recovering {
		j.recovering = true
		if _, herr := s.defaultHead(ctx, j); herr != nil {
			return Pull{}, herr
		}
	}
	return pr, err
}

// defaultHead resolves the default branch head. A first attempt takes the
// head the planner read (the merge commit, right after the merge) with its
// sync; a retry reads it again.
func (s *Service) defaultHead(ctx context.Context, j *job) (string, error) {
	if b := j.ev.Base; b != nil && !j.recovering {
		return b.Commit, nil
	}
	sha, found, err := s.gh.BranchHead(ctx, j.repo, j.ev.DefaultBranch)
	if err != nil {
		return "", at("build", err)
	}
	if !found {
		// Deleted or renamed since the merge: waiting will not bring it
		// back, so the failure is reported now.
		return "", at("build", bus.Permanent(fmt.Errorf("default branch %s of %s does not exist (deleted or renamed since the merge)", j.ev.DefaultBranch, j.repo)))
	}
	return sha, nil
}

// build computes the sync of entry's pairs from sourceCommit onto head and
// creates its tree (one tree read per commit, cached; one create-tree).
func (s *Service) build(ctx context.Context, j *job, head, sourceCommit string, entry *plan.Entry) (*built, error) {
	if b := j.ev.Base; b != nil && b.Commit == head && sourceCommit == j.ev.MergeCommit && samePairs(entry, j.ev) {
		return s.buildPlanned(ctx, j, b, entry)
	}
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

// buildPlanned creates the tree of the sync the planner computed on head.
func (s *Service) buildPlanned(ctx context.Context, j *job, pb *events.PromotionBase, entry *plan.Entry) (*built, error) {
	b := &built{head: pb.Commit, inSync: pb.InSync, label: entry.SourceLabel(), notes: pb.Notes}
	if pb.InSync {
		return b, nil
	}
	changes := make([]treesync.Change, len(pb.Changes))
	for i, c := range pb.Changes {
		changes[i] = treesync.Change{Path: c.Path, Mode: c.Mode, Type: c.Type, SHA: c.SHA, Delete: c.Delete}
	}
	var err error
	if b.tree, err = s.gh.CreateTree(ctx, j.repo, pb.Tree, changes); err != nil {
		return nil, at("build", err)
	}
	return b, nil
}

// samePairs reports whether entry syncs exactly the planned pairs (the
// planner's sync applies to it).
func samePairs(entry *plan.Entry, ev *events.PromotionPlanned) bool {
	if len(entry.Sync) != len(ev.Sync) || len(entry.Duplicates) != len(ev.Duplicates) {
		return false
	}
	for i, p := range entry.Sync {
		if p != syncPair(ev.Sync[i]) {
			return false
		}
	}
	for i, d := range entry.Duplicates {
		if d.Winner != syncPair(ev.Duplicates[i].Winner) || d.Loser != syncPair(ev.Duplicates[i].Loser) {
			return false
		}
	}
	return true
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
	if !errors.Is(err, githubapi.ErrBranchExists) {
		return commit, at("ref", err)
	}
	if j.freshBranch {
		return "", errBranchTaken
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
	c, err := s.gh.Commit(ctx, j.repo, commit)
	if err != nil {
		return false, at("commit", err)
	}
	return c.Tree == treeSHA, nil
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
		OriginPrs: o.OriginPrs, HistoryParents: o.HistoryParents,
	}}
}

// newMetadata is the metadata of a promotion of entry at sourceCommit
// caused by the job's origin.
func (j *job) newMetadata(entry *plan.Entry, sourceCommit string) metadata.Metadata {
	return j.buildMetadata(entry, sourceCommit, []metadata.Origin{j.origin()})
}

func (j *job) buildMetadata(entry *plan.Entry, sourceCommit string, origins []metadata.Origin) metadata.Metadata {
	comps := make([]metadata.ComponentRef, len(entry.Components))
	for i, c := range entry.Components {
		comps[i] = metadata.ComponentRef{SourcePath: c.SourceDir, Name: c.Name}
	}
	return metadata.Build(metadata.Promotion{
		Key: entry.Key, SourceLabel: entry.SourceLabel(), Targets: entry.Targets, PromotedPaths: entry.PromotedPaths(),
		Components: comps, SourceCommit: sourceCommit, Policy: j.ev.Policy,
	}, origins)
}

// metadataFor is the metadata of a supersede PR after this promotion of
// entry (as the PR carries it): a new PR's, or carried's with this one
// added. A merge none of whose components the PR carries (their targets
// were all skipped) adds no origin, author or history; the components are
// those the PR carries now.
func (j *job) metadataFor(entry *plan.Entry, sourceCommit string, carried *metadata.Metadata) metadata.Metadata {
	if carried == nil {
		return j.newMetadata(entry, sourceCommit)
	}
	var origins []metadata.Origin
	if j.contributes(entry) {
		origins = []metadata.Origin{j.origin()}
	}
	next := j.buildMetadata(entry, sourceCommit, origins)
	md := metadata.Merge(*carried, next)
	md.Components = next.Components
	return md
}

// contributes reports whether entry carries one of the event's components.
func (j *job) contributes(entry *plan.Entry) bool {
	for _, c := range j.ev.Components {
		if slices.ContainsFunc(entry.Components, func(e plan.Component) bool { return e.SourceDir == c.SourceDir && e.Name == c.Name }) {
			return true
		}
	}
	return false
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
