package argodiff

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
		case "closed":
			return s.resetToHEAD(ctx, m.Log, pullSyncRequest(e.GetRepo(), githubapi.PullOf(e.GetPullRequest())))
		}
	case *github.IssueCommentEvent:
		if !e.GetIssue().IsPullRequest() {
			return nil
		}
		switch e.GetAction() {
		case "created":
			return s.retrigger(ctx, m, d.DeliveryID, e)
		case "edited":
			return s.checkboxEdited(ctx, m, e)
		}
	}
	return nil
}

func prRunOf(id string, repo *github.Repository, pr githubapi.Pull) prRun {
	defaultBranch := repo.GetDefaultBranch()
	if defaultBranch == "" {
		defaultBranch = pr.DefaultBranch
	}
	return prRun{
		ID: id, Repo: githubapi.RepoOf(repo), PR: pr.Number,
		HeadSHA: pr.HeadSHA, HeadBranch: pr.HeadRef, Body: pr.Body,
		Labels: pr.Labels, DefaultBranch: defaultBranch, HTMLURL: repo.GetHTMLURL(),
	}
}

func pullRequestRun(deliveryID string, e *github.PullRequestEvent) prRun {
	run := prRunOf(deliveryID, e.GetRepo(), githubapi.PullOf(e.GetPullRequest()))
	run.PR = e.GetNumber()
	return run
}

func pullSyncRequest(repo *github.Repository, pr githubapi.Pull) syncRequest {
	run := prRunOf("", repo, pr)
	return syncRequest{
		Repo: run.Repo, PR: run.PR, Branch: run.HeadBranch, HeadSHA: run.HeadSHA, Body: run.Body,
		DefaultBranch: run.DefaultBranch, HTMLURL: run.HTMLURL,
	}
}

// retrigger re-runs the diff on /retrigger with the PR's current head,
// labels and body.
func (s *Service) retrigger(ctx context.Context, m *bus.Message, deliveryID string, e *github.IssueCommentEvent) error {
	body := e.GetComment().GetBody()
	if strings.TrimSpace(body) != RetriggerCommand || githubapi.HasMarker(body) {
		return nil
	}
	if !s.cfg.HandleSelfComment {
		bot, err := s.gh.BotLogin(ctx)
		if err != nil {
			return err
		}
		if githubapi.SameLogin(e.GetSender().GetLogin(), bot) {
			return nil
		}
	}
	api := s.repoAPI(githubapi.RepoOf(e.GetRepo()))
	pr, err := api.pull(ctx, e.GetIssue().GetNumber())
	if err != nil {
		return err
	}
	if pr.State != "open" {
		return nil
	}
	return s.checkPR(ctx, m, prRunOf(deliveryID, e.GetRepo(), pr))
}

// checkboxEdited deploys the PR branch when an edit of a bot comment ticked
// the checkbox, while the PR is open.
func (s *Service) checkboxEdited(ctx context.Context, m *bus.Message, e *github.IssueCommentEvent) error {
	c := e.GetComment()
	if !githubapi.HasMarker(c.GetBody()) || e.GetChanges() == nil || e.GetChanges().GetBody() == nil {
		return nil
	}
	if !newlyTicked(e.GetChanges().GetBody().GetFrom(), c.GetBody()) {
		return nil
	}
	bot, err := s.gh.BotLogin(ctx)
	if err != nil {
		return err
	}
	if !githubapi.SameLogin(c.GetUser().GetLogin(), bot) {
		return nil
	}
	api := s.repoAPI(githubapi.RepoOf(e.GetRepo()))
	// The PR as it is now: a closed PR is never deployed (its reset may
	// already have run).
	pr, err := api.pull(ctx, e.GetIssue().GetNumber())
	if err != nil {
		return err
	}
	if pr.State != "open" {
		m.Log.Info("ignoring the deploy-from-branch checkbox of a closed PR")
		return nil
	}
	return s.deployFromBranch(ctx, m.Log.With("sender", e.GetSender().GetLogin()), pullSyncRequest(e.GetRepo(), pr))
}
