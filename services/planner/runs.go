package planner

import (
	"context"
	"fmt"
	"slices"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan/comments"
)

// runRecord is the state of one run, kept in the promotion_runs bucket. It
// is built from run_started and entry_finished events in whatever order
// they arrive, so replicas may handle them concurrently.
type runRecord struct {
	RunID           string                  `json:"runId"`
	Repo            events.Repo             `json:"repo"`
	PR              int                     `json:"pr"`
	MergeCommit     string                  `json:"mergeCommit"`
	HeadSHA         string                  `json:"headSha"`
	Started         bool                    `json:"started"`
	Keys            []string                `json:"keys,omitempty"`
	ComponentErrors int                     `json:"componentErrors,omitempty"`
	Outcomes        map[string]entryOutcome `json:"outcomes,omitempty"`
	// ClaimedBy is the event whose handler finishes the run; a redelivery
	// of that event may finish it again after a crash, another may not.
	ClaimedBy string `json:"claimedBy,omitempty"`
	Finished  bool   `json:"finished,omitempty"`
	State     string `json:"state,omitempty"`
}

type entryOutcome struct {
	Outcome string `json:"outcome"`
	Number  int    `json:"number,omitempty"`
	Error   string `json:"error,omitempty"`
}

// complete reports whether every planned entry has finished.
func (r *runRecord) complete() bool {
	if !r.Started {
		return false
	}
	for _, k := range r.Keys {
		if _, ok := r.Outcomes[k]; !ok {
			return false
		}
	}
	return true
}

// failures returns the failed entries in plan-key order.
func (r *runRecord) failures() []events.PromotionEntryFailure {
	var out []events.PromotionEntryFailure
	for _, k := range r.Keys {
		if o := r.Outcomes[k]; o.Outcome == events.OutcomeFailed {
			out = append(out, events.PromotionEntryFailure{Key: k, Error: o.Error})
		}
	}
	return out
}

func (r *runRecord) finalState() string {
	if len(r.failures()) > 0 || r.ComponentErrors > 0 {
		return githubapi.StateError
	}
	return githubapi.StateSuccess
}

// reason is the status description of an error state.
func (r *runRecord) reason() string {
	if n := len(r.failures()); n > 0 {
		return fmt.Sprintf("%d of %d promotions failed", n, len(r.Keys))
	}
	if r.ComponentErrors > 0 {
		return "invalid component configuration"
	}
	return ""
}

// runStore keeps run records with compare-and-set updates.
type runStore struct{ recs *bus.Records[runRecord] }

func newRunStore(ctx context.Context, conn *bus.Conn) (*runStore, error) {
	recs, err := bus.OpenRecords[runRecord](ctx, conn, events.BucketPromotionRuns, events.PromotionRecordTTL, "promotion run")
	if err != nil {
		return nil, err
	}
	return &runStore{recs: recs}, nil
}

// get returns the record of run id, or nil.
func (s *runStore) get(ctx context.Context, id string) (*runRecord, error) {
	r, _, err := s.recs.Get(ctx, id)
	return r, err
}

// update applies change to the record of run id (a new record when there is
// none) and stores it if change returns true, retrying on concurrent
// updates. It returns the record as stored.
func (s *runStore) update(ctx context.Context, id string, change func(*runRecord) bool) (*runRecord, bool, error) {
	var unchanged *runRecord
	rec, stored, err := s.recs.Update(ctx, id, func(cur *runRecord) *runRecord {
		r := cur
		if r == nil {
			r = &runRecord{RunID: id}
		}
		if !change(r) {
			unchanged = r
			return nil
		}
		return r
	})
	if err != nil || !stored {
		return unchanged, false, err
	}
	return rec, true, nil
}

// handleRunEvent records a run_started or entry_finished event and
// finishes the run when it is complete.
func (s *Service) handleRunEvent(ctx context.Context, m *bus.Message) error {
	p, err := m.Env.Payload()
	if err != nil {
		return bus.Permanent(err)
	}
	var runID string
	var change func(*runRecord) bool
	switch ev := p.(type) {
	case *events.PromotionRunStarted:
		runID = ev.RunID
		change = func(r *runRecord) bool {
			if r.Started {
				return false
			}
			r.Started, r.Keys, r.HeadSHA, r.MergeCommit = true, slices.Clone(ev.Keys), ev.HeadSHA, ev.MergeCommit
			r.ComponentErrors = ev.ComponentErrors
			r.adopt(m.Env)
			return true
		}
	case *events.PromotionEntryFinished:
		return s.entryFinished(ctx, m, m.Env, ev)
	default:
		return nil
	}
	return s.applyRunChange(ctx, m, runID, change)
}

// entryFinished records an entry's outcome; env is the envelope that tells
// the repository and origin PR.
func (s *Service) entryFinished(ctx context.Context, m *bus.Message, env *events.Envelope, ev *events.PromotionEntryFinished) error {
	return s.applyRunChange(ctx, m, ev.RunID, func(r *runRecord) bool {
		if _, seen := r.Outcomes[ev.Key]; seen || r.Finished {
			return false
		}
		if r.Outcomes == nil {
			r.Outcomes = map[string]entryOutcome{}
		}
		r.Outcomes[ev.Key] = entryOutcome{Outcome: ev.Outcome, Number: ev.Number, Error: ev.Error}
		r.adopt(env)
		return true
	})
}

// applyRunChange stores a change of a run and finishes the run when it is
// complete.
func (s *Service) applyRunChange(ctx context.Context, m *bus.Message, runID string, change func(*runRecord) bool) error {
	rec, _, err := s.runs.update(ctx, runID, change)
	if err != nil {
		return err
	}
	if rec.Finished || !rec.complete() {
		return nil
	}
	return s.finishRun(ctx, m, rec)
}

// adopt takes the repository and origin PR from an event's envelope.
func (r *runRecord) adopt(env *events.Envelope) {
	if env.Repo != nil && r.Repo.Owner == "" {
		r.Repo = *env.Repo
	}
	if r.PR == 0 {
		r.PR = env.PR
	}
}

// finishRun sets the origin PR's final status (after one "Failed to
// promote:" comment if entries failed), publishes run_finished and marks
// the run finished.
func (s *Service) finishRun(ctx context.Context, m *bus.Message, rec *runRecord) error {
	rec, claimed, err := s.runs.update(ctx, rec.RunID, func(r *runRecord) bool {
		if r.Finished || (r.ClaimedBy != "" && r.ClaimedBy != m.Env.ID) {
			return false
		}
		if r.ClaimedBy == m.Env.ID {
			return true // a redelivery after a crash: finish again
		}
		r.ClaimedBy = m.Env.ID
		return true
	})
	if err != nil || !claimed {
		return err
	}
	log := m.Log.With("run_id", rec.RunID, "pr", rec.PR)
	failures := rec.failures()
	if len(failures) > 0 {
		list := make([]comments.Failure, len(failures))
		for i, f := range failures {
			list[i] = comments.Failure{Key: f.Key, Error: f.Error}
		}
		body, rerr := s.render.PromotionFailed(list)
		if err := s.commenter(m).post(ctx, rec.Repo, rec.PR, body, rerr); err != nil {
			return err
		}
	}
	state := rec.finalState()
	if err := s.gh.SetStatus(ctx, rec.Repo, rec.PR, rec.HeadSHA, state, rec.reason()); err != nil {
		return err
	}
	outcomes := make(map[string]string, len(rec.Outcomes))
	for k, o := range rec.Outcomes {
		outcomes[k] = o.Outcome
	}
	done := &events.PromotionRunFinished{RunID: rec.RunID, MergeCommit: rec.MergeCommit, HeadSHA: rec.HeadSHA,
		State: state, Outcomes: outcomes, Failures: failures}
	if err := s.publish(ctx, m.Env, events.DeriveID(events.TypePromotionRunFinished, rec.RunID), rec.Repo, rec.PR, done); err != nil {
		return err
	}
	if _, _, err := s.runs.update(ctx, rec.RunID, func(r *runRecord) bool {
		r.Finished, r.State = true, state
		return true
	}); err != nil {
		return err
	}
	log.Info("promotion run finished", "state", state, "entries", len(rec.Keys), "failed", len(failures))
	return nil
}
