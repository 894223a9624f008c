package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Facts are the partial records one event contributes.
type Facts struct {
	PRs      []*PR
	Runs     []*Run
	Entries  []*Entry
	Journeys []*Journey
}

// Empty reports whether the event contributed nothing.
func (f Facts) Empty() bool {
	return len(f.PRs)+len(f.Runs)+len(f.Entries)+len(f.Journeys) == 0
}

// FromEvent returns the facts of an event. Events the tracker does not
// follow (other types, other GitHub events) give none. An error means the
// event cannot be read (a malformed payload): retrying cannot help.
func FromEvent(env *events.Envelope) (Facts, error) {
	if env.Type == events.TypeGitHubDelivery {
		return fromDelivery(env)
	}
	if !strings.HasPrefix(env.Type, "promotion.") && !strings.HasPrefix(env.Type, "argodiff.") {
		return Facts{}, nil
	}
	if env.Repo == nil {
		return Facts{}, fmt.Errorf("%s event %s names no repository", env.Type, env.ID)
	}
	p, err := env.Payload()
	if err != nil {
		return Facts{}, err
	}
	return fromPayload(env, *env.Repo, env.Time.UTC(), p), nil
}

func fromPayload(env *events.Envelope, repo events.Repo, at time.Time, p events.Payload) Facts {
	switch p := p.(type) {
	case *events.PromotionRunStarted:
		return Facts{
			Runs: []*Run{{ID: p.RunID, Repo: repo, OriginPR: env.PR, MergeCommit: p.MergeCommit, HeadSHA: p.HeadSHA,
				Keys: union(p.Keys, nil), Started: at, Comment: p.TrackerComment}},
			PRs: []*PR{{Repo: repo, Number: env.PR, Merged: &Merge{Commit: p.MergeCommit}}},
		}
	case *events.PromotionPlanned:
		return fromPlanned(repo, at, p)
	case *events.PromotionPROpened:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, p.Number)
		e.Opened = true
		return Facts{Entries: []*Entry{e}, PRs: []*PR{openPR(repo, p.Number, p.URL, at)}}
	case *events.PromotionPRUpdated:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, p.Number)
		e.Updated = true
		return Facts{Entries: []*Entry{e}, PRs: []*PR{openPR(repo, p.Number, p.URL, at)}}
	case *events.PromotionMerged:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, p.Number)
		e.Merged = &Merge{At: at, Commit: p.MergedAs}
		return Facts{Entries: []*Entry{e},
			PRs: []*PR{{Repo: repo, Number: p.Number, Promotion: true, Merged: &Merge{At: at, Commit: p.MergedAs}}}}
	case *events.PromotionInSync:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, 0)
		e.InSync = true
		f := Facts{Entries: []*Entry{e}}
		if p.ClosedPR != 0 {
			f.PRs = []*PR{{Repo: repo, Number: p.ClosedPR, Promotion: true, Open: &Switch{On: false, At: at}}}
		}
		return f
	case *events.PromotionFailed:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, p.Number)
		e.Failure = &Failure{Stage: p.Stage, Error: p.Error, At: at}
		return Facts{Entries: []*Entry{e}}
	case *events.PromotionEntryFinished:
		e := outcome(repo, at, p.RunID, p.MergeCommit, p.Key, p.Number)
		e.Outcome = &Outcome{Outcome: p.Outcome, Error: p.Error, At: at}
		return Facts{Entries: []*Entry{e}}
	case *events.PromotionRunFinished:
		return Facts{Runs: []*Run{{ID: p.RunID, Repo: repo, MergeCommit: p.MergeCommit, HeadSHA: p.HeadSHA,
			Finished: &RunEnd{State: p.State, At: at}}}}
	}
	return fromOther(env, repo, at, p)
}

// fromPlanned records the plan of an entry, the run it belongs to and the
// journeys (original PRs) it carries on.
func fromPlanned(repo events.Repo, at time.Time, p *events.PromotionPlanned) Facts {
	journeys := Journeys(p.Origin)
	plan := &Plan{
		SourcePath: p.Group.SourcePath, Targets: union(p.Group.Targets, nil), TargetDescription: p.Group.TargetDescription,
		Policy: p.Policy, Branch: p.Branch, AutoMerge: p.AutoMerge,
	}
	for _, c := range p.Components {
		plan.Components = append(plan.Components, c.Name)
	}
	plan.Components = union(plan.Components, nil)
	for _, s := range p.Sync {
		plan.Pairs = append(plan.Pairs, Pair{SourceDir: s.SourceDir, TargetDir: s.TargetDir, Component: s.Component})
	}
	slices.SortFunc(plan.Pairs, comparePairs)
	f := Facts{
		Entries: []*Entry{{ID: events.PromotionEntryID(repo, p.MergeCommit, p.Group.Key), RunID: p.RunID, Repo: repo,
			Key: p.Group.Key, MergeCommit: p.MergeCommit, Plan: plan, First: at, Last: at, Journeys: journeys}},
		Runs: []*Run{{ID: p.RunID, Repo: repo, OriginPR: p.Origin.Number, MergeCommit: p.MergeCommit, HeadSHA: p.Origin.HeadSHA,
			Keys: []string{p.Group.Key}, Journeys: journeys, Depth: levels(p.Origin), Started: at}},
		PRs: []*PR{{Repo: repo, Number: p.Origin.Number, Author: p.Origin.Author, Merged: &Merge{Commit: p.MergeCommit},
			Promotion: slices.Contains(p.Origin.Labels, PromotionLabel)}},
	}
	for _, j := range journeys {
		f.Journeys = append(f.Journeys, &Journey{Repo: repo, Number: j, Runs: []string{p.RunID}, Started: at, Last: at})
	}
	return f
}

// Journeys are the changes (original PRs) a promotion from origin carries:
// the origin PRs its metadata lists and the original PR, or the origin
// itself when it is a person's PR.
func Journeys(o events.PromotionOrigin) []int {
	out := slices.Clone(o.OriginPrs)
	if o.OriginalPrNumber != 0 {
		out = append(out, o.OriginalPrNumber)
	}
	if len(out) == 0 {
		out = append(out, o.Number)
	}
	return union(out, nil)
}

// levels is the depth of the origin's chain history: the longest path
// through its historyParents, or the number of levels when it has none.
func levels(o events.PromotionOrigin) int {
	if len(o.HistoryParents) == 0 {
		return len(o.History)
	}
	depth := map[string]int{}
	var walk func(k string, seen int) int
	walk = func(k string, seen int) int {
		if d, ok := depth[k]; ok {
			return d
		}
		if seen > len(o.HistoryParents) { // a cycle in hostile metadata
			return 0
		}
		d := 1
		for _, p := range o.HistoryParents[k] {
			d = max(d, walk(p, seen+1)+1)
		}
		depth[k] = d
		return d
	}
	out := 0
	for k := range o.History {
		out = max(out, walk(k, 0))
	}
	return out
}

// PromotionLabel marks promotion PRs.
const PromotionLabel = "promotion"

func outcome(repo events.Repo, at time.Time, runID, mergeCommit, key string, number int) *Entry {
	e := &Entry{ID: events.PromotionEntryID(repo, mergeCommit, key), RunID: runID, Repo: repo, Key: key,
		MergeCommit: mergeCommit, Last: at}
	if number != 0 {
		e.PRs = []int{number}
	}
	return e
}

func openPR(repo events.Repo, number int, url string, at time.Time) *PR {
	return &PR{Repo: repo, Number: number, URL: url, Promotion: true, Open: &Switch{On: true, At: at}}
}

func comparePairs(a, b Pair) int {
	return strings.Compare(a.TargetDir+"\x00"+a.Component+"\x00"+a.SourceDir, b.TargetDir+"\x00"+b.Component+"\x00"+b.SourceDir)
}

// prPayload is the part of a pull_request webhook the tracker reads.
type prPayload struct {
	Action      string `json:"action"`
	PullRequest struct {
		Number         int        `json:"number"`
		Title          string     `json:"title"`
		HTMLURL        string     `json:"html_url"`
		State          string     `json:"state"`
		Merged         bool       `json:"merged"`
		MergedAt       *time.Time `json:"merged_at"`
		UpdatedAt      time.Time  `json:"updated_at"`
		MergeCommitSHA string     `json:"merge_commit_sha"`
		User           struct {
			Login string `json:"login"`
		} `json:"user"`
		Labels []struct {
			Name string `json:"name"`
		} `json:"labels"`
	} `json:"pull_request"`
}

// fromDelivery reads a pull_request delivery: the PR's title, author,
// link, whether it is open, and its merge.
func fromDelivery(env *events.Envelope) (Facts, error) {
	var d events.GitHubDelivery
	if err := env.DecodeData(&d); err != nil {
		return Facts{}, err
	}
	if d.Event != "pull_request" || env.Repo == nil {
		return Facts{}, nil
	}
	body, err := d.PayloadJSON()
	if err != nil {
		return Facts{}, err
	}
	var p prPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Facts{}, fmt.Errorf("decoding pull_request delivery %s: %w", d.DeliveryID, err)
	}
	pr := p.PullRequest
	if pr.Number <= 0 {
		return Facts{}, fmt.Errorf("pull_request delivery %s has no PR number", d.DeliveryID)
	}
	at := pr.UpdatedAt.UTC()
	if at.IsZero() {
		at = env.Time.UTC()
	}
	rec := &PR{Repo: *env.Repo, Number: pr.Number, Title: Register{Value: pr.Title, At: at}, URL: pr.HTMLURL,
		Author: pr.User.Login}
	switch pr.State {
	case "open":
		rec.Open = &Switch{On: true, At: at}
	case "closed":
		rec.Open = &Switch{On: false, At: at}
	}
	if pr.Merged || pr.MergedAt != nil {
		rec.Merged = &Merge{Commit: pr.MergeCommitSHA}
		if pr.MergedAt != nil {
			rec.Merged.At = pr.MergedAt.UTC()
		}
	}
	for _, l := range pr.Labels {
		if l.Name == PromotionLabel {
			rec.Promotion = true
		}
	}
	return Facts{PRs: []*PR{rec}}, nil
}

// CellFacts are the cell records an entry contributes once both its plan
// and its promotion PR are known: each sync pair's target and component,
// synced by the entry's PRs, carrying its changes.
func CellFacts(e *Entry) []*Cell {
	if e == nil || e.Plan == nil || len(e.PRs) == 0 {
		return nil
	}
	changes := make([]Change, 0, len(e.Journeys))
	for _, j := range e.Journeys {
		changes = append(changes, Change{PR: j, Commit: e.MergeCommit})
	}
	out := make([]*Cell, 0, len(e.Plan.Pairs))
	for _, p := range e.Plan.Pairs {
		c := &Cell{Repo: e.Repo, Dir: p.TargetDir, Component: p.Component}
		for _, n := range e.PRs {
			c.PRs = append(c.PRs, CellPR{Number: n, Changes: slices.Clone(changes)})
		}
		out = append(out, c)
	}
	return out
}
