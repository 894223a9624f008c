package drift

import (
	"context"
	"strconv"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
)

// toggleRequest is a new PR comment that may name toggleCommitStatus keys.
type toggleRequest struct {
	CommentID     int64
	Body          string
	PR            int
	Author        string
	DefaultBranch string
}

// toggleRecord is what one comment's toggles did, by key; one per toggle
// comment in events.BucketToggles.
type toggleRecord struct {
	Keys map[string]toggleStep `json:"keys"`
	// Denied is set once the author was told they may not run commands.
	Denied bool `json:"denied,omitempty"`
}

// toggleStep is one flip: recorded before the status is set, marked Set
// once GitHub has it.
type toggleStep struct {
	Context  string `json:"context"`
	Previous string `json:"previous,omitempty"`
	State    string `json:"state"`
	Set      bool   `json:"set,omitempty"`
}

// toggle flips, for each toggleCommitStatus key the comment contains as
// "/<key>" (in key order), the configured status context on the PR head:
// success unless its newest status is success, failure otherwise. Only the
// state changes: the new status keeps the newest status's description and
// target URL (the CI's own), as the original did. It then replies saying
// what it set. The configuration is read at the default branch head. What
// each comment flipped is recorded (events.BucketToggles) before the status
// is set, so a redelivered comment flips nothing twice and its reply still
// lists what the comment set.
func (s *Service) toggle(ctx context.Context, m *bus.Message, api *repoAPI, req toggleRequest) error {
	base, err := api.branchHead(ctx, req.DefaultBranch)
	if err != nil {
		return err
	}
	data, _, err := api.file(ctx, base, config.RepoFileName)
	tooLarge, err := configError(err)
	if err != nil {
		return err
	}
	cfg, err := config.LoadRepoConfig(config.RepoFileName, data)
	if tooLarge != nil {
		err = tooLarge
	}
	if err != nil {
		m.Log.Warn("not toggling statuses: the repository configuration is invalid", "error", err)
		return nil
	}
	var keys []string
	for _, k := range cfg.ToggleCommitStatusKeys() {
		if strings.Contains(req.Body, "/"+k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ok, err := s.commandAllowed(ctx, m, api, commandComment{CommentID: req.CommentID, PR: req.PR, Author: req.Author}, "/"+strings.Join(keys, ", /"))
	if !ok || err != nil {
		return err
	}
	pr, err := api.pull(ctx, req.PR)
	if err != nil {
		return err
	}
	sha := pr.HeadSHA
	target := githubapi.StatusTarget{Owner: api.repo.Owner, Repo: api.repo.Name, PrNumber: req.PR, SHA: sha}
	recKey := events.PRKey(api.repo, req.PR) + "." + strconv.FormatInt(req.CommentID, 10)
	rec, _, err := s.toggles.Get(ctx, recKey)
	if err != nil {
		return err
	}
	if rec == nil {
		rec = &toggleRecord{}
	}
	if rec.Keys == nil {
		rec.Keys = map[string]toggleStep{}
	}
	var done []comments.Toggle
	for _, k := range keys {
		step, seen := rec.Keys[k]
		if !seen || !step.Set {
			if step, err = s.flip(ctx, api, target, cfg.ToggleCommitStatus[k], step, seen, func(st toggleStep) error {
				rec.Keys[k] = st
				return s.toggles.Put(ctx, recKey, rec)
			}); err != nil {
				return err
			}
			m.Log.Info("toggled commit status", "context", step.Context, "state", step.State, "previous", step.Previous, "sha", sha)
		}
		done = append(done, comments.Toggle{Key: k, Context: step.Context, State: step.State, Previous: step.Previous})
	}
	body, err := s.texts.ToggleReply(comments.ToggleData{SHA: sha, Toggles: done})
	if err != nil {
		return bus.Permanent(err)
	}
	_, err = api.comment(ctx, req.PR, body)
	return err
}

// flip sets statusContext to the opposite of its newest state, keeping
// that status's description and target URL. A new step is recorded before
// the status is set and again, with Set, after; a step recorded earlier
// (seen) whose status may not have been set is finished with its recorded
// state.
func (s *Service) flip(ctx context.Context, api *repoAPI, target githubapi.StatusTarget, statusContext string,
	step toggleStep, seen bool, record func(toggleStep) error) (toggleStep, error) {
	history, err := api.statusHistory(ctx, target.SHA, statusContext)
	if err != nil {
		return step, err
	}
	var newest githubapi.CommitStatus
	if len(history) > 0 {
		newest = history[0]
	}
	if !seen {
		step = toggleStep{Context: statusContext, Previous: newest.State, State: githubapi.StateSuccess}
		if newest.State == githubapi.StateSuccess {
			step.State = githubapi.StateFailure
		}
		if err := record(step); err != nil {
			return step, err
		}
	}
	st := githubapi.CommitStatus{Context: step.Context, State: step.State, Description: newest.Description, TargetURL: newest.TargetURL}
	if err := s.gh.SetStatusAs(ctx, api.repo, target.PrNumber, target.SHA, st); err != nil {
		return step, err
	}
	step.Set = true
	return step, record(step)
}
