package drift

import (
	"context"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// RetriggerCommand re-runs the open-PR checks when a comment's trimmed body
// equals it.
const RetriggerCommand = "/retrigger"

// handle routes one GitHub delivery.
func (s *Service) handle(ctx context.Context, m *bus.Message) error {
	d, ev, err := githubapi.ParseDelivery(m.Env)
	if err != nil {
		return err
	}
	switch e := ev.(type) {
	case *github.PullRequestEvent:
		switch e.GetAction() {
		case "opened", "reopened", "synchronize":
			return s.checkPR(ctx, m, pullRequestRun(d.DeliveryID, e))
		}
	case *github.IssueCommentEvent:
		if e.GetAction() == "created" {
			return s.handleComment(ctx, m, d.DeliveryID, e)
		}
	}
	return nil
}

func pullRequestRun(deliveryID string, e *github.PullRequestEvent) prRun {
	pr := e.GetPullRequest()
	return prRun{
		ID:            deliveryID,
		Repo:          githubapi.RepoOf(e.GetRepo()),
		PR:            e.GetNumber(),
		HeadSHA:       pr.GetHead().GetSHA(),
		Labels:        githubapi.PullOf(pr).Labels,
		DefaultBranch: e.GetRepo().GetDefaultBranch(),
		HTMLURL:       e.GetRepo().GetHTMLURL(),
		Opened:        e.GetAction() == "opened",
		BaseSHA:       baseSHA(e),
	}
}

// baseSHA is the delivery's base commit when the PR targets the default
// branch (GitHub sets it to that branch's head at the time of the event).
func baseSHA(e *github.PullRequestEvent) string {
	if e.GetPullRequest().GetBase().GetRef() != e.GetRepo().GetDefaultBranch() {
		return ""
	}
	return e.GetPullRequest().GetBase().GetSHA()
}

// handleComment handles a new comment: /retrigger, or toggleCommitStatus
// keys, run only for authors with write access (permission.go). Comments on
// issues, comments carrying the bot marker, and (unless HANDLE_SELF_COMMENT)
// comments by the bot are ignored.
func (s *Service) handleComment(ctx context.Context, m *bus.Message, deliveryID string, e *github.IssueCommentEvent) error {
	if !e.GetIssue().IsPullRequest() {
		return nil
	}
	body := e.GetComment().GetBody()
	retrigger := strings.TrimSpace(body) == RetriggerCommand
	if githubapi.HasMarker(body) || (!retrigger && !strings.Contains(body, "/")) {
		return nil
	}
	if !s.cfg.HandleSelfComment {
		bot, err := s.clients.BotLogin(ctx)
		if err != nil {
			return err
		}
		if githubapi.SameLogin(e.GetSender().GetLogin(), bot) {
			m.Log.Debug("ignoring the bot's own comment")
			return nil
		}
	}
	repo := githubapi.RepoOf(e.GetRepo())
	api, err := s.repoAPI(ctx, repo)
	if err != nil {
		return err
	}
	number := e.GetIssue().GetNumber()
	author := e.GetComment().GetUser().GetLogin()
	if author == "" {
		author = e.GetSender().GetLogin()
	}
	if retrigger {
		ok, err := s.commandAllowed(ctx, m, api, commandComment{CommentID: e.GetComment().GetID(), PR: number, Author: author}, RetriggerCommand)
		if !ok || err != nil {
			return err
		}
		pr, err := api.pull(ctx, number)
		if err != nil {
			return err
		}
		if pr.State != "open" {
			m.Log.Info("ignoring /retrigger on a PR that is not open", "state", pr.State)
			return nil
		}
		defaultBranch := e.GetRepo().GetDefaultBranch()
		if defaultBranch == "" {
			defaultBranch = pr.DefaultBranch
		}
		return s.checkPR(ctx, m, prRun{
			ID:            deliveryID,
			Repo:          repo,
			PR:            number,
			HeadSHA:       pr.HeadSHA,
			Labels:        pr.Labels,
			DefaultBranch: defaultBranch,
			HTMLURL:       e.GetRepo().GetHTMLURL(),
		})
	}
	return s.toggle(ctx, m, api, toggleRequest{
		CommentID:     e.GetComment().GetID(),
		Body:          body,
		PR:            number,
		Author:        author,
		DefaultBranch: e.GetRepo().GetDefaultBranch(),
	})
}
