package githubapi

import (
	"context"
	"time"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// CommitStatus is one commit status.
type CommitStatus struct {
	Context     string
	State       string
	Description string
	TargetURL   string
	UpdatedAt   time.Time
}

func statusOf(st *github.RepoStatus) CommitStatus {
	return CommitStatus{Context: st.GetContext(), State: st.GetState(), Description: st.GetDescription(),
		TargetURL: st.GetTargetURL(), UpdatedAt: st.GetUpdatedAt().Time}
}

// SetStatus sets the telefonistka commit status of sha (see StatusSetter).
func (g *GitHub) SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	return g.status.Set(ctx, c.Repositories, StatusTarget{Owner: repo.Owner, Repo: repo.Name, PrNumber: pr, SHA: sha}, state, reason)
}

// SetStatusAs sets a status of any context with the given description and
// target URL (StatusSetter.SetContextAs).
func (g *GitHub) SetStatusAs(ctx context.Context, repo events.Repo, pr int, sha string, st CommitStatus) error {
	c, err := g.client(ctx, repo)
	if err != nil {
		return err
	}
	t := StatusTarget{Owner: repo.Owner, Repo: repo.Name, PrNumber: pr, SHA: sha}
	return g.status.SetContextAs(ctx, c.Repositories, t, st.Context, st.State, st.Description, st.TargetURL)
}

// Statuses lists every status of ref, newest first (every page).
func (g *GitHub) Statuses(ctx context.Context, repo events.Repo, ref string) ([]CommitStatus, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	var out []CommitStatus
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.Repositories.ListStatuses(ctx, repo.Owner, repo.Name, ref, opts)
		if err != nil {
			return nil, fail(err, "listing the statuses of %s@%s", repo, ref)
		}
		for _, st := range page {
			out = append(out, statusOf(st))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// LatestStatus returns the latest status of statusContext on ref (GitHub's
// combined status); found is false when there is none.
func (g *GitHub) LatestStatus(ctx context.Context, repo events.Repo, ref, statusContext string) (CommitStatus, bool, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return CommitStatus{}, false, err
	}
	opts := &github.ListOptions{PerPage: 100}
	for {
		cs, resp, err := c.Repositories.GetCombinedStatus(ctx, repo.Owner, repo.Name, ref, opts)
		if err != nil {
			return CommitStatus{}, false, fail(err, "reading the combined status of %s@%s", repo, ref)
		}
		for _, st := range cs.Statuses {
			if st.GetContext() == statusContext {
				return statusOf(st), true, nil
			}
		}
		if resp.NextPage == 0 {
			return CommitStatus{}, false, nil
		}
		opts.Page = resp.NextPage
	}
}

// Permission returns login's permission on repo ("admin", "write",
// "read", ...; "none" for a user GitHub does not know).
func (g *GitHub) Permission(ctx context.Context, repo events.Repo, login string) (string, error) {
	c, err := g.client(ctx, repo)
	if err != nil {
		return "", err
	}
	level, _, err := c.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, login)
	switch {
	case IsNotFound(err):
		return "none", nil
	case err != nil:
		return "", fail(err, "reading the permission of %s on %s", login, repo)
	case level.GetPermission() == "":
		return "none", nil
	}
	return level.GetPermission(), nil
}

// InstallationRepos lists every repository the App's installation on owner
// can reach (every page).
func (g *GitHub) InstallationRepos(ctx context.Context, owner string) ([]events.Repo, error) {
	c, err := g.client(ctx, events.Repo{Owner: owner})
	if err != nil {
		return nil, err
	}
	var repos []events.Repo
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.Apps.ListRepos(ctx, opts)
		if err != nil {
			return nil, fail(err, "listing the repositories of the installation on %s", owner)
		}
		for _, r := range page.Repositories {
			repos = append(repos, events.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()})
		}
		if resp.NextPage == 0 {
			return repos, nil
		}
		opts.Page = resp.NextPage
	}
}
