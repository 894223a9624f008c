package promoter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// job is one planned entry being promoted.
type job struct {
	ev      *events.PromotionPlanned
	env     *events.Envelope
	repo    events.Repo
	entryID string
	rec     *entryRecord
	// recovering: an earlier attempt may have written to GitHub, so look
	// before writing (adopt its branch commit instead of making another).
	recovering bool
	// freshBranch: the branch is expected not to exist (errBranchTaken
	// when it does).
	freshBranch bool
	log         *slog.Logger
}

// result is what happened to an entry.
type result struct {
	outcome      string
	pr           *Pull
	commit       string
	adopted      bool
	replaces     int
	sourceCommit string
	originPRs    []int
	closedPR     int
	mergedAs     string
	attempts     int
	failStage    string
	failErr      error
}

func (r *result) fail(stage string, err error) {
	r.outcome, r.failStage, r.failErr = events.OutcomeFailed, stage, err
}

// stageError names the step an error happened in.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Error() string { return e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

func at(stage string, err error) error {
	if err == nil {
		return nil
	}
	var se *stageError
	if errors.As(err, &se) {
		return err
	}
	return &stageError{stage: stage, err: err}
}

func stageOf(err error) string {
	var se *stageError
	if errors.As(err, &se) {
		return se.stage
	}
	return "promote"
}

// handlePlanned promotes one plan entry.
func (s *Service) handlePlanned(ctx context.Context, m *bus.Message) error {
	var ev events.PromotionPlanned
	if err := m.Env.DecodeData(&ev); err != nil {
		return bus.Permanent(err)
	}
	if m.Env.Repo == nil {
		return bus.Permanent(fmt.Errorf("planned event %s has no repository", m.Env.ID))
	}
	repo := *m.Env.Repo
	j := &job{
		ev: &ev, env: m.Env, repo: repo,
		entryID: events.PromotionEntryID(repo, ev.MergeCommit, ev.Group.Key),
		log:     m.Log.With("plan_key", ev.Group.Key, "branch", ev.Branch, "merge_commit", ev.MergeCommit),
	}
	if done, err := s.replayed(ctx, j); done || err != nil {
		return err
	}
	ctx, release, err := s.locks.acquire(ctx, s.lockKey(j))
	if err != nil {
		return err
	}
	defer release()
	if done, err := s.replayed(ctx, j); done || err != nil {
		return err
	}
	j.recovering = j.rec.Started || m.Delivery > 1
	if !j.rec.Started {
		j.rec.Started = true
		if err := s.entries.put(ctx, j.entryID, j.rec); err != nil {
			return err
		}
	}

	res, err := s.promote(ctx, j)
	if err != nil {
		if !m.Final(err) {
			return err
		}
		if res == nil {
			res = &result{}
		}
		res.fail(stageOf(err), err)
	}
	return s.report(ctx, j, res)
}

// replayed loads the entry record; for an entry already finished it
// publishes the recorded outcome again (same event id, so nothing new) and
// reports done.
func (s *Service) replayed(ctx context.Context, j *job) (bool, error) {
	rec, err := s.entries.get(ctx, j.entryID)
	if err != nil {
		return false, err
	}
	if rec == nil {
		rec = &entryRecord{}
	}
	j.rec = rec
	if !rec.Done || rec.Finished == nil {
		return false, nil
	}
	j.log.Info("plan entry already promoted; replay ignored", "outcome", rec.Finished.Outcome)
	return true, s.publish(ctx, j, rec.Finished)
}

func (s *Service) lockKey(j *job) string {
	if j.ev.Policy == string(config.PolicyPerChange) {
		return hashKey("branch", j.repo.String(), j.ev.Branch)
	}
	return hashKey("group", j.repo.String(), j.ev.Group.Key)
}

func (s *Service) promote(ctx context.Context, j *job) (*result, error) {
	if j.ev.Policy == string(config.PolicyPerChange) {
		return s.promotePerChange(ctx, j)
	}
	return s.promoteSupersede(ctx, j)
}

// publish publishes an outcome event of j with its derived id.
func (s *Service) publish(ctx context.Context, j *job, p events.Payload) error {
	meta := events.Follow(j.env, source)
	meta.ID = events.PromotionEventID(p.EventType(), j.repo, j.ev.MergeCommit, j.ev.Group.Key)
	env, err := events.New(meta, p)
	if err != nil {
		return bus.Permanent(err)
	}
	_, err = s.pub.Publish(ctx, env)
	return err
}

// openedFact is the pr_opened fact of a result that opened (or adopted) a
// PR, else nil.
func openedFact(j *job, res *result) *events.PromotionPROpened {
	if res.pr == nil || res.sourceCommit != "" || res.outcome == events.OutcomeRejected {
		return nil
	}
	ev := j.ev
	return &events.PromotionPROpened{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
		Branch: res.pr.HeadRef, Number: res.pr.Number, URL: res.pr.URL, Commit: res.commit, Adopted: res.adopted, Replaces: res.replaces}
}

// rememberOpened records in the entry record that this entry opened (or
// adopted) res.pr, so the fact is reported even if a later attempt, after
// a retried merge, only updates it.
func (s *Service) rememberOpened(ctx context.Context, j *job, res *result) error {
	j.rec.Opened = openedFact(j, res)
	return at("open", s.entries.put(ctx, j.entryID, j.rec))
}

// report publishes what happened to the entry, then entry_finished, and
// records the entry as done.
func (s *Service) report(ctx context.Context, j *job, res *result) error {
	ev := j.ev
	number := 0
	if res.pr != nil {
		number = res.pr.Number
	}
	var facts []events.Payload
	opened := openedFact(j, res)
	if earlier := j.rec.Opened; earlier != nil && opened == nil {
		// An earlier attempt opened the PR (a merge retried by redelivery).
		facts = append(facts, earlier)
	}
	switch {
	case res.pr != nil && res.sourceCommit != "":
		facts = append(facts, &events.PromotionPRUpdated{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
			Branch: res.pr.HeadRef, Number: number, URL: res.pr.URL, Commit: res.commit, SourceCommit: res.sourceCommit, OriginPRs: res.originPRs})
	case opened != nil:
		facts = append(facts, opened)
	}
	if res.outcome == events.OutcomeInSync {
		facts = append(facts, &events.PromotionInSync{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit, ClosedPR: res.closedPR})
	}
	if res.mergedAs != "" {
		facts = append(facts, &events.PromotionMerged{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
			Number: number, MergedAs: res.mergedAs, Attempts: res.attempts})
	}
	finished := &events.PromotionEntryFinished{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
		Outcome: res.outcome, Number: number}
	if res.failErr != nil {
		msg := res.failErr.Error()
		facts = append(facts, &events.PromotionFailed{RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
			Stage: res.failStage, Error: msg, Number: number})
		finished.Error = msg
	}
	for _, f := range append(facts, finished) {
		if err := s.publish(ctx, j, f); err != nil {
			return err
		}
	}
	j.rec.Done, j.rec.Finished = true, finished
	if err := s.entries.put(ctx, j.entryID, j.rec); err != nil {
		return err
	}
	log := j.log.With("outcome", res.outcome, "pr_number", number)
	if res.failErr != nil {
		log.Error("promotion failed", "stage", res.failStage, "error", res.failErr)
	} else {
		log.Info("plan entry promoted")
	}
	return nil
}
