package drift

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// RetriggerCommand re-runs the open-PR checks when a comment's trimmed body
// equals it.
const RetriggerCommand = "/retrigger"

// handle routes one GitHub delivery.
func (s *Service) handle(ctx context.Context, m *bus.Message) error {
	var d events.GitHubDelivery
	if err := m.Env.DecodeData(&d); err != nil {
		return bus.Permanent(fmt.Errorf("decoding the delivery: %w", err))
	}
	payload, err := d.PayloadJSON()
	if err != nil {
		return bus.Permanent(err)
	}
	ev, err := github.ParseWebHook(d.Event, payload)
	if err != nil {
		return bus.Permanent(fmt.Errorf("parsing %s delivery %s: %w", d.Event, d.DeliveryID, err))
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

func repoOf(r *github.Repository) events.Repo {
	owner := r.GetOwner().GetLogin()
	if owner == "" {
		owner = r.GetOwner().GetName()
	}
	return events.Repo{Owner: owner, Name: r.GetName()}
}

func labelNames(labels []*github.Label) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		out = append(out, l.GetName())
	}
	return out
}

func pullRequestRun(deliveryID string, e *github.PullRequestEvent) prRun {
	pr := e.GetPullRequest()
	return prRun{
		ID:            deliveryID,
		Repo:          repoOf(e.GetRepo()),
		PR:            e.GetNumber(),
		HeadSHA:       pr.GetHead().GetSHA(),
		Labels:        labelNames(pr.Labels),
		DefaultBranch: e.GetRepo().GetDefaultBranch(),
		HTMLURL:       e.GetRepo().GetHTMLURL(),
	}
}

// handleComment handles a new comment: /retrigger, or toggleCommitStatus
// keys. Comments on issues, comments carrying the bot marker, and (unless
// HANDLE_SELF_COMMENT) comments by the bot are ignored.
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
		if sameLogin(e.GetSender().GetLogin(), bot) {
			m.Log.Debug("ignoring the bot's own comment")
			return nil
		}
	}
	repo := repoOf(e.GetRepo())
	api, err := s.repoAPI(ctx, repo)
	if err != nil {
		return err
	}
	number := e.GetIssue().GetNumber()
	if retrigger {
		pr, err := api.pull(ctx, number)
		if err != nil {
			return err
		}
		if pr.GetState() != "open" {
			m.Log.Info("ignoring /retrigger on a PR that is not open", "state", pr.GetState())
			return nil
		}
		defaultBranch := e.GetRepo().GetDefaultBranch()
		if defaultBranch == "" {
			defaultBranch = pr.GetBase().GetRepo().GetDefaultBranch()
		}
		return s.checkPR(ctx, m, prRun{
			ID:            deliveryID,
			Repo:          repo,
			PR:            number,
			HeadSHA:       pr.GetHead().GetSHA(),
			Labels:        labelNames(pr.Labels),
			DefaultBranch: defaultBranch,
			HTMLURL:       e.GetRepo().GetHTMLURL(),
		})
	}
	return s.toggle(ctx, m, api, toggleRequest{
		CommentID:     e.GetComment().GetID(),
		Body:          body,
		PR:            number,
		DefaultBranch: e.GetRepo().GetDefaultBranch(),
	})
}

// sameLogin compares logins case-insensitively, ignoring a "[bot]" suffix.
func sameLogin(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "[bot]"), strings.TrimSuffix(b, "[bot]"))
}
