package planner

import (
	"slices"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
)

// runInput is what every planned event of one run shares.
type runInput struct {
	runID         string
	repo          events.Repo
	merge         string
	defaultBranch string
	policy        config.Policy
	autoApprove   bool
	origin        events.PromotionOrigin
}

// originEvent describes the origin PR with the chain history it carries.
func originEvent(pr githubapi.Pull, o metadata.Origin, labels []string) events.PromotionOrigin {
	history := map[string]events.PromotionLevel{}
	var originPrs []int
	var parents map[string][]string
	if o.Metadata != nil {
		for k, v := range o.Metadata.PreviousPromotionPaths {
			history[k] = events.PromotionLevel{SourcePath: v.SourcePath, TargetPaths: nonNil(v.TargetPaths)}
		}
		originPrs = slices.Clone(o.Metadata.OriginPrs)
		if len(o.Metadata.HistoryParents) > 0 {
			parents = make(map[string][]string, len(o.Metadata.HistoryParents))
			for k, v := range o.Metadata.HistoryParents {
				parents[k] = nonNil(v)
			}
		}
	}
	return events.PromotionOrigin{
		Number:            pr.Number,
		Author:            pr.Author,
		HeadRef:           pr.HeadRef,
		HeadSHA:           pr.HeadSHA,
		Labels:            nonNil(labels),
		OriginalPrNumber:  o.OriginalPrNumber(),
		OriginalPrAuthors: nonNil(o.Authors()),
		History:           history,
		OriginPrs:         originPrs,
		HistoryParents:    parents,
	}
}

// plannedEvents turns plan entries (in plan-key order) into planned events.
// Branch names are computed here because perChange names of one event
// depend on each other (collisions get -2, -3, ...).
func plannedEvents(in runInput, entries []plan.Entry) []*events.PromotionPlanned {
	branches := make([]string, len(entries))
	if in.policy == config.PolicyPerChange {
		targets := make([][]string, len(entries))
		for i := range entries {
			targets[i] = entries[i].RawTargets
		}
		branches = prtext.PerChangeBranches(in.origin.Number, in.origin.HeadRef, targets)
	} else {
		for i := range entries {
			branches[i] = prtext.SupersedeBranch(entries[i].SourcePath, entries[i].Key)
		}
	}
	out := make([]*events.PromotionPlanned, len(entries))
	for i := range entries {
		e := &entries[i]
		out[i] = &events.PromotionPlanned{
			RunID:         in.runID,
			MergeCommit:   in.merge,
			DefaultBranch: in.defaultBranch,
			Origin:        in.origin,
			Group: events.PromotionGroup{
				Key: e.Key, SourcePath: e.SourcePath, FlowIndex: e.FlowIndex,
				Targets: nonNil(e.Targets), RawTargets: nonNil(e.RawTargets), TargetDescription: e.TargetDescription,
			},
			Policy:      string(in.policy),
			Branch:      branches[i],
			AutoMerge:   e.AutoMerge,
			AutoApprove: in.autoApprove,
			Labels:      nonNil(e.Labels),
			Components:  components(e.Components),
			Sync:        pairs(e.Sync),
			Skipped:     pairs(e.Skipped),
			Duplicates:  duplicates(e.Duplicates),
		}
	}
	return out
}

func components(cs []plan.Component) []events.PromotionComponent {
	out := make([]events.PromotionComponent, len(cs))
	for i, c := range cs {
		out[i] = events.PromotionComponent{SourceDir: c.SourceDir, Name: c.Name}
	}
	return out
}

func pairs(ps []plan.SyncPair) []events.PromotionPair {
	out := make([]events.PromotionPair, len(ps))
	for i, p := range ps {
		out[i] = pair(p)
	}
	return out
}

func pair(p plan.SyncPair) events.PromotionPair {
	return events.PromotionPair{SourceDir: p.SourceDir, TargetDir: p.TargetDir, Component: p.Component}
}

func duplicates(ds []plan.DuplicateTarget) []events.PromotionDuplicate {
	out := make([]events.PromotionDuplicate, len(ds))
	for i, d := range ds {
		out[i] = events.PromotionDuplicate{Winner: pair(d.Winner), Loser: pair(d.Loser)}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}
