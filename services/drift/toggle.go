package drift

import (
	"context"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
)

// toggleRequest is a new PR comment that may name toggleCommitStatus keys.
type toggleRequest struct {
	CommentID     int64
	Body          string
	PR            int
	DefaultBranch string
}

// toggle flips, for each toggleCommitStatus key the comment contains as
// "/<key>" (in key order), the configured status context on the PR head:
// success unless its newest status is success, failure otherwise. It then
// replies saying what it set. The configuration is read at the default
// branch head. Each status it sets names the key and the comment, so a
// redelivered comment flips nothing twice (its reply lists what the
// comment set).
func (s *Service) toggle(ctx context.Context, m *bus.Message, api *repoAPI, req toggleRequest) error {
	base, err := api.branchHead(ctx, req.DefaultBranch)
	if err != nil {
		return err
	}
	data, _, err := api.file(ctx, base, config.RepoFileName)
	if err != nil {
		return err
	}
	cfg, err := config.LoadRepoConfig(config.RepoFileName, data)
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
	pr, err := api.pull(ctx, req.PR)
	if err != nil {
		return err
	}
	sha := pr.GetHead().GetSHA()
	target := githubapi.StatusTarget{Owner: api.repo.Owner, Repo: api.repo.Name, PrNumber: req.PR, SHA: sha}
	var done []comments.Toggle
	for _, k := range keys {
		statusContext := cfg.ToggleCommitStatus[k]
		history, err := api.statusHistory(ctx, sha, statusContext)
		if err != nil {
			return err
		}
		if t, ok := toggledBy(history, k, req.CommentID); ok {
			// An earlier delivery of this comment flipped it; it is still
			// part of the reply.
			t.Context = statusContext
			done = append(done, t)
			continue
		}
		newest := ""
		if len(history) > 0 {
			newest = history[0].state
		}
		next := githubapi.StateSuccess
		if newest == githubapi.StateSuccess {
			next = githubapi.StateFailure
		}
		if err := s.status.SetContext(ctx, api.client.Repositories, target, statusContext, next, toggleDescription(next, k, req.CommentID)); err != nil {
			return err
		}
		m.Log.Info("toggled commit status", "context", statusContext, "state", next, "previous", newest, "sha", sha)
		done = append(done, comments.Toggle{Key: k, Context: statusContext, State: next, Previous: newest})
	}
	if len(done) == 0 {
		return nil
	}
	body, err := s.texts.ToggleReply(comments.ToggleData{SHA: sha, Toggles: done})
	if err != nil {
		return bus.Permanent(err)
	}
	_, err = api.comment(ctx, req.PR, body)
	return err
}

// toggledBy finds the status this comment set for key in history (newest
// first) and returns it as a Toggle, with the state before it.
func toggledBy(history []statusEntry, key string, commentID int64) (comments.Toggle, bool) {
	for i, st := range history {
		if st.description != toggleDescription(st.state, key, commentID) {
			continue
		}
		t := comments.Toggle{Key: key, State: st.state}
		if i+1 < len(history) {
			t.Previous = history[i+1].state
		}
		return t, true
	}
	return comments.Toggle{}, false
}

// toggleDescription is the description of a toggled status; it names the
// key and the comment.
func toggleDescription(state, key string, commentID int64) string {
	return fmt.Sprintf("Set to %s by /%s in comment %d", state, key, commentID)
}
