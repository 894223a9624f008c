// Package scenario writes the events of promotion chains as the planner,
// the promoter and ingress publish them, for the tracker's tests and
// benchmarks.
package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Repo is the repository of the scenarios.
var Repo = events.Repo{Owner: "acme", Name: "gitops"}

// Writer appends events with increasing times.
type Writer struct {
	Repo   events.Repo
	Now    time.Time
	Events []*events.Envelope
	// Step is how far apart consecutive events are (default 1s).
	Step time.Duration
}

// NewWriter starts at a fixed time.
func NewWriter() *Writer {
	return &Writer{Repo: Repo, Now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Step: time.Second}
}

func (w *Writer) tick() time.Time {
	w.Now = w.Now.Add(w.Step)
	return w.Now
}

// Add appends an event about PR pr with a derived id (id parts).
func (w *Writer) Add(pr int, p events.Payload, idParts ...string) *events.Envelope {
	repo := w.Repo
	id := events.DeriveID(append([]string{p.EventType(), repo.String()}, idParts...)...)
	env, err := events.New(events.Meta{ID: id, Source: "scenario", CorrelationID: "corr-" + strconv.Itoa(pr), Repo: &repo, PR: pr,
		Time: w.tick()}, p)
	if err != nil {
		panic(err)
	}
	w.Events = append(w.Events, env)
	return env
}

// PullRequest appends a pull_request delivery. state is "open" or
// "closed"; merge, when not empty, makes it merged with that commit.
func (w *Writer) PullRequest(action string, number int, title, author, state, merge string, labels ...string) *events.Envelope {
	at := w.tick()
	pr := map[string]any{
		"number": number, "title": title, "state": state, "html_url": w.URL(number),
		"user": map[string]any{"login": author}, "updated_at": at.Format(time.RFC3339),
		"merged": merge != "", "merge_commit_sha": merge, "head": map[string]any{"ref": "change-" + strconv.Itoa(number)},
		"base": map[string]any{"ref": "main"},
	}
	if merge != "" {
		pr["merged_at"] = at.Format(time.RFC3339)
	}
	var ls []map[string]string
	for _, l := range labels {
		ls = append(ls, map[string]string{"name": l})
	}
	pr["labels"] = ls
	body, err := json.Marshal(map[string]any{"action": action, "number": number, "pull_request": pr,
		"repository": map[string]any{"name": w.Repo.Name, "owner": map[string]any{"login": w.Repo.Owner}, "default_branch": "main"}})
	if err != nil {
		panic(err)
	}
	delivery := fmt.Sprintf("delivery-%d-%s-%d", number, action, len(w.Events))
	repo := w.Repo
	env, err := events.New(events.Meta{ID: delivery, Source: "ingress", CorrelationID: delivery, Repo: &repo, PR: number, Time: at},
		&events.GitHubDelivery{DeliveryID: delivery, Event: "pull_request", Action: action,
			Headers: map[string]string{"Content-Type": "application/json", "X-GitHub-Event": "pull_request"}, Body: body, ReceivedAt: at})
	if err != nil {
		panic(err)
	}
	w.Events = append(w.Events, env)
	return env
}

// URL is a PR's link.
func (w *Writer) URL(number int) string {
	return "https://github.com/" + w.Repo.String() + "/pull/" + strconv.Itoa(number)
}

// Group is one promotion PR of a stage: its targets.
type Group struct {
	SourcePath string
	// SourceDirs are the source directories the components come from
	// (default: SourcePath).
	SourceDirs  []string
	Targets     []string
	Description string
}

// Key is the group's plan key.
func (g Group) Key() string {
	k := g.SourcePath + ">"
	for i, t := range g.Targets {
		if i > 0 {
			k += "|"
		}
		k += t
	}
	return k
}

// Origin describes the merged PR a run starts from.
type Origin struct {
	Number      int
	Author      string
	MergeCommit string
	// Journeys are the original PRs it carries (empty: itself).
	Journeys []int
	// Levels is how many levels of history its metadata holds.
	Levels int
}

// Run appends a run: run_started and one planned event per group.
// It returns the run id.
func (w *Writer) Run(o Origin, comment bool, components []string, groups ...Group) string {
	runID := events.PromotionRunID(w.Repo, o.MergeCommit)
	keys := make([]string, len(groups))
	for i, g := range groups {
		keys[i] = g.Key()
	}
	w.Add(o.Number, &events.PromotionRunStarted{RunID: runID, MergeCommit: o.MergeCommit, HeadSHA: "head-" + o.MergeCommit,
		Keys: keys, TrackerComment: comment}, runID)
	origin := events.PromotionOrigin{Number: o.Number, Author: o.Author, HeadRef: "change", HeadSHA: "head-" + o.MergeCommit,
		Labels: []string{}, OriginalPrNumber: o.Number, OriginalPrAuthors: []string{o.Author}, History: map[string]events.PromotionLevel{}}
	if len(o.Journeys) > 0 {
		origin.Labels = []string{"promotion"}
		origin.OriginalPrNumber = o.Journeys[0]
		origin.OriginPrs = o.Journeys
		for i := range o.Levels {
			origin.History[strconv.Itoa(o.Journeys[0]+i)] = events.PromotionLevel{SourcePath: "level" + strconv.Itoa(i)}
		}
	}
	for _, g := range groups {
		p := &events.PromotionPlanned{RunID: runID, MergeCommit: o.MergeCommit, DefaultBranch: "main", Origin: origin,
			Group: events.PromotionGroup{Key: g.Key(), SourcePath: g.SourcePath, Targets: g.Targets, RawTargets: g.Targets,
				TargetDescription: g.Description},
			Policy: "supersede", Branch: "promotions/group-" + events.DeriveID(g.Key())[:12], Labels: []string{"promotion"}}
		dirs := g.SourceDirs
		if len(dirs) == 0 {
			dirs = []string{g.SourcePath}
		}
		for _, c := range components {
			for _, d := range dirs {
				p.Components = append(p.Components, events.PromotionComponent{SourceDir: d, Name: c})
			}
			for _, t := range g.Targets {
				p.Sync = append(p.Sync, events.PromotionPair{SourceDir: dirs[0], TargetDir: t, Component: c})
			}
		}
		w.Add(o.Number, p, o.MergeCommit, g.Key())
	}
	return runID
}

// Opened appends pr_opened for a group's entry of a run.
func (w *Writer) Opened(origin int, runID, merge string, g Group, number int) {
	w.Add(origin, &events.PromotionPROpened{RunID: runID, Key: g.Key(), MergeCommit: merge, Branch: "b", Number: number,
		URL: w.URL(number), Commit: "commit-" + strconv.Itoa(number)}, merge, g.Key())
}

// Updated appends pr_updated: a newer change joined an open group PR.
func (w *Writer) Updated(origin int, runID, merge string, g Group, number int, carried []int) {
	w.Add(origin, &events.PromotionPRUpdated{RunID: runID, Key: g.Key(), MergeCommit: merge, Branch: "b", Number: number,
		URL: w.URL(number), Commit: "commit-" + merge, SourceCommit: merge, OriginPRs: carried}, merge, g.Key())
}

// Merged appends promotion.merged (an automatic merge).
func (w *Writer) Merged(origin int, runID, merge string, g Group, number int, mergedAs string) {
	w.Add(origin, &events.PromotionMerged{RunID: runID, Key: g.Key(), MergeCommit: merge, Number: number, MergedAs: mergedAs,
		Attempts: 1}, merge, g.Key())
}

// Failed appends promotion.failed.
func (w *Writer) Failed(origin int, runID, merge string, g Group, stage, msg string) {
	w.Add(origin, &events.PromotionFailed{RunID: runID, Key: g.Key(), MergeCommit: merge, Stage: stage, Error: msg}, merge, g.Key())
}

// InSync appends promotion.in_sync.
func (w *Writer) InSync(origin int, runID, merge string, g Group) {
	w.Add(origin, &events.PromotionInSync{RunID: runID, Key: g.Key(), MergeCommit: merge}, merge, g.Key())
}

// Finished appends entry_finished.
func (w *Writer) Finished(origin int, runID, merge string, g Group, outcome string, number int) {
	w.Add(origin, &events.PromotionEntryFinished{RunID: runID, Key: g.Key(), MergeCommit: merge, Outcome: outcome,
		Number: number}, merge, g.Key())
}

// ArgoDiff appends argodiff.commented for a PR: one component per result
// (events.ArgoDiffChanged, ArgoDiffNoDiff, ...).
func (w *Writer) ArgoDiff(pr int, results ...string) {
	p := &events.ArgoDiffCommented{HeadSHA: "head-" + strconv.Itoa(pr), CommentIDs: []int64{int64(9000 + pr)}}
	noDiff := true
	for i, r := range results {
		p.Components = append(p.Components, events.ArgoDiffComponent{Path: "component-" + strconv.Itoa(i), Result: r})
		noDiff = noDiff && r == events.ArgoDiffNoDiff
	}
	p.NoDiff = noDiff
	w.Add(pr, p, strconv.Itoa(pr), strconv.Itoa(len(w.Events)))
}

// RunFinished appends run_finished.
func (w *Writer) RunFinished(origin int, runID, merge, state string) {
	w.Add(origin, &events.PromotionRunFinished{RunID: runID, MergeCommit: merge, HeadSHA: "head-" + merge, State: state,
		Outcomes: map[string]string{}}, runID)
}

// Stages of the sample chain (the README's and the demo's repository).
var (
	LabStaging = Group{SourcePath: "workspace/", Targets: []string{"clusters/lab/c1/", "clusters/staging/c1/"},
		Description: "lab and staging"}
	ProdEU = Group{SourcePath: "clusters/staging/c1/", Targets: []string{"clusters/prod/eu-1/"}}
	ProdUS = Group{SourcePath: "clusters/staging/c1/", Targets: []string{"clusters/prod/us-1/"}}
)

// Chain appends the journey of one change to workspace/<component>:
// the person's PR n merged, lab and staging opened and merged
// automatically as PR n+1, the prod PRs n+2 and n+3 opened; the EU one is
// merged by a person when mergeProd is set.
func (w *Writer) Chain(n int, component string, comment, mergeProd bool) {
	merge := fmt.Sprintf("m%d", n)
	w.PullRequest("opened", n, "Bump "+component, "alice", "open", "")
	w.PullRequest("closed", n, "Bump "+component, "alice", "closed", merge)
	run1 := w.Run(Origin{Number: n, Author: "alice", MergeCommit: merge}, comment, []string{component}, LabStaging)
	w.Opened(n, run1, merge, LabStaging, n+1)
	w.PullRequest("opened", n+1, "🚀 Promotion: "+component+" ➡️  lab and staging", "telefonistka", "open", "", "promotion")
	mergeLab := fmt.Sprintf("m%d", n+1)
	w.Merged(n, run1, merge, LabStaging, n+1, mergeLab)
	w.Finished(n, run1, merge, LabStaging, events.OutcomeMerged, n+1)
	w.RunFinished(n, run1, merge, "success")
	w.PullRequest("closed", n+1, "🚀 Promotion: "+component+" ➡️  lab and staging", "telefonistka", "closed", mergeLab, "promotion")
	run2 := w.Run(Origin{Number: n + 1, Author: "telefonistka", MergeCommit: mergeLab, Journeys: []int{n}, Levels: 1}, comment,
		[]string{component}, ProdEU, ProdUS)
	for i, g := range []Group{ProdEU, ProdUS} {
		w.Opened(n+1, run2, mergeLab, g, n+2+i)
		w.PullRequest("opened", n+2+i, "🚀 Promotion: "+component+" ➡️  "+g.Targets[0], "telefonistka", "open", "", "promotion")
		w.Finished(n+1, run2, mergeLab, g, events.OutcomeOpened, n+2+i)
	}
	w.RunFinished(n+1, run2, mergeLab, "success")
	if mergeProd {
		w.PullRequest("closed", n+2, "🚀 Promotion: "+component+" ➡️  "+ProdEU.Targets[0], "telefonistka", "closed",
			fmt.Sprintf("m%d", n+2), "promotion")
	}
}

// Sample writes the sample chains the tracker's golden files show: nginx
// (#10) promoted to prod EU (merged by a person) and waiting in prod US,
// redis (#20) waiting in both prod PRs, and a second nginx change (#30)
// that joined the open prod US PR and whose approval failed; Argo CD found
// no diff in redis's prod EU PR and a diff in the prod US PR.
func Sample(w *Writer) {
	w.Chain(10, "nginx", true, true)
	w.Chain(20, "redis", false, false)
	merge := "m30"
	w.PullRequest("opened", 30, "Bump nginx again", "bob", "open", "")
	w.PullRequest("closed", 30, "Bump nginx again", "bob", "closed", merge)
	run := w.Run(Origin{Number: 30, Author: "bob", MergeCommit: merge}, true, []string{"nginx"}, LabStaging)
	w.Opened(30, run, merge, LabStaging, 31)
	w.Merged(30, run, merge, LabStaging, 31, "m31")
	w.Finished(30, run, merge, LabStaging, events.OutcomeMerged, 31)
	w.RunFinished(30, run, merge, "success")
	run2 := w.Run(Origin{Number: 31, Author: "telefonistka", MergeCommit: "m31", Journeys: []int{30}, Levels: 1}, true,
		[]string{"nginx"}, ProdUS)
	w.ArgoDiff(22, events.ArgoDiffNoDiff)
	w.ArgoDiff(13, events.ArgoDiffChanged)
	w.Updated(31, run2, "m31", ProdUS, 13, []int{10, 30})
	w.ArgoDiff(13, events.ArgoDiffChanged, events.ArgoDiffError)
	w.Failed(31, run2, "m31", ProdUS, "approve", "the approver identity is not configured")
	w.Finished(31, run2, "m31", ProdUS, events.OutcomeFailed, 13)
	w.RunFinished(31, run2, "m31", "error")
}

// Fleet writes n chains (Chain) of changes to components component-000 ...
// component-<components-1> in turn, every fourth one's prod EU PR merged:
// about 22 events a change.
func (w *Writer) Fleet(n, components int) {
	for i := range n {
		w.Chain(10+4*i, fmt.Sprintf("component-%03d", i%components), i%3 == 0, i%4 == 0)
	}
}
