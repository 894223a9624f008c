package view

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
)

// Journey is a change's journey: its original PR and every promotion
// step that carried it on, stage by stage.
type Journey struct {
	Repo        string    `json:"repo"`
	Number      int       `json:"number"`
	Title       string    `json:"title,omitempty"`
	URL         string    `json:"url,omitempty"`
	Author      string    `json:"author,omitempty"`
	MergeCommit string    `json:"mergeCommit,omitempty"`
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	// State is done, failed, stopped, waiting or in_progress.
	State string `json:"state"`
	// Done counts the steps merged or already in sync, of Total.
	Done  int `json:"done"`
	Total int `json:"total"`
	// Comment is true when the repository asked for the origin-PR comment.
	Comment bool    `json:"comment"`
	Stages  []Stage `json:"stages"`
}

// Stage is one level of the chain (1: promoted from the original PR).
type Stage struct {
	Number int    `json:"number"`
	Steps  []Step `json:"steps"`
}

// Step is one promotion PR of a stage.
type Step struct {
	Source      string   `json:"source"`
	Targets     []string `json:"targets"`
	Description string   `json:"description,omitempty"`
	Components  []string `json:"components"`
	PR          int      `json:"pr,omitempty"`
	URL         string   `json:"url,omitempty"`
	// State is planned, open, merged, in_sync, failed, closed or rejected.
	State     string    `json:"state"`
	Detail    string    `json:"detail,omitempty"`
	AutoMerge bool      `json:"autoMerge,omitempty"`
	ArgoDiff  string    `json:"argoDiff,omitempty"`
	Updated   time.Time `json:"updated"`
}

// Step states.
const (
	StepPlanned  = "planned"
	StepOpen     = "open"
	StepMerged   = "merged"
	StepInSync   = "in_sync"
	StepFailed   = "failed"
	StepClosed   = "closed"
	StepRejected = "rejected"
)

// Journey states.
const (
	JourneyDone       = "done"
	JourneyFailed     = "failed"
	JourneyStopped    = "stopped"
	JourneyWaiting    = "waiting"
	JourneyInProgress = "in_progress"
)

// Journey returns the journey of the change whose original PR is number,
// and false when the tracker knows none.
func (m *Model) Journey(repo events.Repo, number int) (Journey, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	j := m.journeys[state.JourneyKey(repo, number)]
	if j == nil {
		return Journey{}, false
	}
	return m.journey(j), true
}

// journey builds the view of j; the caller holds the read lock.
func (m *Model) journey(j *state.Journey) Journey {
	out := Journey{Repo: j.Repo.String(), Number: j.Number, Started: j.Started, Updated: j.Last}
	if pr := m.pr(j.Repo, j.Number); pr != nil {
		out.Title, out.Author = pr.Title.Value, pr.Author
		if pr.Merged != nil {
			out.MergeCommit = pr.Merged.Commit
		}
	}
	out.URL = m.prURL(j.Repo, j.Number)
	runs := m.journeyRuns(j)
	stageOfPR := map[int]int{} // promotion PR -> the stage of its step
	byStage := map[int][]Step{}
	finished := true
	for _, r := range runs {
		out.Comment = out.Comment || r.Comment
		if r.Finished == nil {
			finished = false
		}
		stage := r.Depth + 1
		if r.OriginPR == j.Number {
			stage = 1
		} else if s, ok := stageOfPR[r.OriginPR]; ok {
			stage = s + 1
		}
		for _, e := range m.runSteps(r) {
			step := m.step(e)
			for _, n := range e.PRs {
				stageOfPR[n] = stage
			}
			byStage[stage] = append(byStage[stage], step)
			out.Updated = latest(out.Updated, step.Updated)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(byStage)) {
		steps := byStage[n]
		slices.SortFunc(steps, func(a, b Step) int {
			return cmp.Or(strings.Compare(a.Source, b.Source), slices.Compare(a.Targets, b.Targets), cmp.Compare(a.PR, b.PR))
		})
		out.Stages = append(out.Stages, Stage{Number: len(out.Stages) + 1, Steps: steps})
	}
	out.State, out.Done, out.Total = progress(out.Stages, finished)
	return out
}

// journeyRuns are the journey's runs in the order they started.
func (m *Model) journeyRuns(j *state.Journey) []*state.Run {
	var runs []*state.Run
	for _, id := range j.Runs {
		if r := m.runs[id]; r != nil {
			runs = append(runs, r)
		}
	}
	slices.SortFunc(runs, func(a, b *state.Run) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	return runs
}

// runSteps are the entries of a run that carry a plan, by key.
func (m *Model) runSteps(r *state.Run) []*state.Entry {
	var out []*state.Entry
	for id := range m.runEntries[r.ID] {
		if e := m.entries[id]; e != nil && e.Plan != nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *state.Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// step shows one entry: its plan, its promotion PR and where it stands.
func (m *Model) step(e *state.Entry) Step {
	s := Step{Source: e.Plan.SourcePath, Targets: e.Plan.Targets, Description: e.Plan.TargetDescription,
		Components: e.Plan.Components, AutoMerge: e.Plan.AutoMerge, Updated: e.Last}
	var pr *state.PR
	if len(e.PRs) > 0 {
		s.PR = e.PRs[len(e.PRs)-1] // a replacement PR has the higher number
		s.URL = m.prURL(e.Repo, s.PR)
		pr = m.pr(e.Repo, s.PR)
	}
	if pr != nil && pr.ArgoDiff != nil {
		s.ArgoDiff = argoDiffText(pr.ArgoDiff)
	}
	switch {
	case e.Merged != nil || pr.State() == "merged":
		s.State = StepMerged
	case e.InSync:
		s.State = StepInSync
	case e.Failure != nil:
		s.State, s.Detail = StepFailed, e.Failure.Stage+": "+e.Failure.Error
	case e.Outcome != nil && e.Outcome.Outcome == events.OutcomeFailed:
		s.State, s.Detail = StepFailed, e.Outcome.Error
	case e.Outcome != nil && e.Outcome.Outcome == events.OutcomeRejected:
		s.State = StepRejected
	case pr.State() == "closed":
		s.State = StepClosed
	case s.PR != 0:
		s.State = StepOpen
	default:
		s.State = StepPlanned
	}
	return s
}

// progress sums the steps up: how many are done, and the journey's state.
func progress(stages []Stage, runsFinished bool) (string, int, int) {
	var done, total, open, failed, stopped int
	for _, st := range stages {
		for _, s := range st.Steps {
			total++
			switch s.State {
			case StepMerged, StepInSync:
				done++
			case StepOpen:
				open++
			case StepFailed:
				failed++
			case StepClosed, StepRejected:
				stopped++
			}
		}
	}
	switch {
	case failed > 0:
		return JourneyFailed, done, total
	case open > 0:
		return JourneyWaiting, done, total
	case total > 0 && done == total && runsFinished:
		return JourneyDone, done, total
	case stopped > 0 && done+stopped == total:
		return JourneyStopped, done, total
	}
	return JourneyInProgress, done, total
}

func argoDiffText(d *state.ArgoDiff) string {
	var t string
	switch d.Result {
	case state.ArgoNoDiff:
		t = "no diff"
	case state.ArgoChanged:
		t = strconv.Itoa(d.Changed) + " of " + strconv.Itoa(d.Components) + " components differ"
	default:
		return "diff failed"
	}
	if d.Failed > 0 {
		t += ", " + strconv.Itoa(d.Failed) + " failed"
	}
	return t
}

// prURL is a PR's link: as GitHub gave it, or built from another PR's
// link of the repository; empty when the tracker has seen none.
func (m *Model) prURL(repo events.Repo, number int) string {
	if pr := m.pr(repo, number); pr != nil && pr.URL != "" {
		return pr.URL
	}
	if base := m.repoURL(repo); base != "" {
		return base + "/pull/" + strconv.Itoa(number)
	}
	return ""
}

// repoURL is the repository's web address, learnt from its PR links.
func (m *Model) repoURL(repo events.Repo) string {
	ix := m.repos[repo]
	if ix == nil || ix.url == "" {
		return ""
	}
	return ix.url
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
