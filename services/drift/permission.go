package drift

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/drift/internal/comments"
)

// Comment commands (/retrigger, toggleCommitStatus keys) change what a PR
// shows and may satisfy a required status, so they run only for people
// who may push to the repository: permission write or admin in GitHub's
// collaborator permission API (maintain reads as write there). Anyone else
// gets a reply saying so, once per comment.

// permissionTTL is how long a looked-up permission is trusted: entries are
// keyed by the period they were read in, so a revoked right stops working
// within it.
const permissionTTL = 5 * time.Minute

// canWrite reports whether permission grants pushing to the repository.
func canWrite(permission string) bool {
	return permission == "admin" || permission == "write" || permission == "maintain"
}

// permission returns login's permission on the repository ("none" for a
// user GitHub does not know), cached for the current period.
func (s *Service) permission(ctx context.Context, api *repoAPI, login string) (string, error) {
	period := s.now().UnixNano() / int64(permissionTTL)
	key := strings.ToLower(api.repo.String()+":"+login) + "@" + strconv.FormatInt(period, 10)
	return s.perms.Get(key, func() (string, error) {
		return api.gh.Permission(ctx, api.repo, login)
	})
}

// commandAllowed checks that the comment's author may run command; if not,
// it replies once (recorded with the comment's toggle record) and returns
// false.
func (s *Service) commandAllowed(ctx context.Context, m *bus.Message, api *repoAPI, c commandComment, command string) (bool, error) {
	perm, err := s.permission(ctx, api, c.Author)
	if err != nil {
		return false, err
	}
	if canWrite(perm) {
		return true, nil
	}
	m.Log.Warn("comment command refused: the author cannot write to the repository", "command", command, "author", c.Author, "permission", perm)
	recKey := events.PRKey(api.repo, c.PR) + "." + strconv.FormatInt(c.CommentID, 10)
	rec, _, err := s.toggles.Get(ctx, recKey)
	if err != nil {
		return false, err
	}
	if rec != nil && rec.Denied {
		return false, nil // replied already (a redelivered comment)
	}
	body, err := s.texts.CommandDenied(comments.DeniedData{Login: c.Author, Command: command, Repo: api.repo.String(), Permission: perm})
	if err != nil {
		return false, bus.Permanent(err)
	}
	if _, err := api.comment(ctx, c.PR, body); err != nil {
		return false, err
	}
	if rec == nil {
		rec = &toggleRecord{}
	}
	rec.Denied = true
	return false, s.toggles.Put(ctx, recKey, rec)
}

// commandComment is the comment a command came in.
type commandComment struct {
	CommentID int64
	PR        int
	Author    string
}
