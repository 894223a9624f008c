package argodiff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// GitHubClients gives GitHub clients per repo owner and the bot's login;
// *githubapi.Factory is one. REST calls go through githubapi's adapter
// built on it.
type GitHubClients interface {
	githubapi.Clients
	BotLogin(ctx context.Context) (string, error)
}

// GitHub is what the service does on GitHub (*githubapi.GitHub is one).
// Every error is classified for the bus.
type GitHub interface {
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	Pull(ctx context.Context, repo events.Repo, number int) (githubapi.Pull, error)
	PullFiles(ctx context.Context, repo events.Repo, number int) ([]githubapi.ChangedFile, error)
	File(ctx context.Context, repo events.Repo, ref, path string) (data []byte, found bool, err error)
	Comment(ctx context.Context, repo events.Repo, number int, body string) (githubapi.PostedComment, error)
	Comments(ctx context.Context, repo events.Repo, number int) ([]githubapi.IssueComment, error)
	AddLabels(ctx context.Context, repo events.Repo, number int, labels []string) error
	RemoveLabel(ctx context.Context, repo events.Repo, number int, label string) error
	Merge(ctx context.Context, repo events.Repo, number int, head, title, method string) (string, error)
	SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error
}

// repoAPI is the GitHub calls the service makes on one repository, with the
// service's cache of files (commits are immutable).
type repoAPI struct {
	repo  events.Repo
	gh    GitHub
	files *githubapi.Cache[fileEntry]
}

type fileEntry struct {
	data  []byte
	found bool
}

func (s *Service) repoAPI(repo events.Repo) *repoAPI {
	return &repoAPI{repo: repo, gh: s.api, files: s.files}
}

func (a *repoAPI) branchHead(ctx context.Context, branch string) (string, error) {
	sha, found, err := a.gh.BranchHead(ctx, a.repo, branch)
	if err == nil && !found {
		err = bus.Permanent(fmt.Errorf("branch %s of %s does not exist", branch, a.repo))
	}
	return sha, err
}

func (a *repoAPI) pull(ctx context.Context, number int) (githubapi.Pull, error) {
	return a.gh.Pull(ctx, a.repo, number)
}

// changedFiles lists every page of a PR's files, with both names of renames.
func (a *repoAPI) changedFiles(ctx context.Context, number int) ([]string, error) {
	files, err := a.gh.PullFiles(ctx, a.repo, number)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, f.Name)
		if f.Previous != "" {
			out = append(out, f.Previous)
		}
	}
	return out, nil
}

// file reads path at commit, cached per (repo, commit, path). Files over
// 1 MB are read as blobs; a directory at path is a permanent error.
func (a *repoAPI) file(ctx context.Context, commit, path string) ([]byte, bool, error) {
	e, err := a.files.Get(a.repo.String()+"@"+commit+":"+path, func() (fileEntry, error) {
		data, found, err := a.gh.File(ctx, a.repo, commit, path)
		return fileEntry{data: data, found: found}, err
	})
	return e.data, e.found, err
}

func (a *repoAPI) comment(ctx context.Context, number int, body string) (githubapi.PostedComment, error) {
	return a.gh.Comment(ctx, a.repo, number, body)
}

// findComment returns the bot comment whose body contains tag, or nil
// (every page is read).
func (a *repoAPI) findComment(ctx context.Context, number int, tag string) (*githubapi.IssueComment, error) {
	all, err := a.gh.Comments(ctx, a.repo, number)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if githubapi.HasMarker(all[i].Body) && strings.Contains(all[i].Body, tag) {
			return &all[i], nil
		}
	}
	return nil, nil
}

func (a *repoAPI) addLabel(ctx context.Context, number int, label string) error {
	return a.gh.AddLabels(ctx, a.repo, number, []string{label})
}

func (a *repoAPI) removeLabel(ctx context.Context, number int, label string) error {
	return a.gh.RemoveLabel(ctx, a.repo, number, label)
}

// merge merges the PR at head (commit title "Auto-merge", the repository's
// default merge method), retrying GitHub's "Base branch was modified ...
// try the merge again" with githubapi.MergeRetry. merged is false when
// someone pushed to the PR since head.
func (a *repoAPI) merge(ctx context.Context, number int, head string) (merged bool, err error) {
	_, _, err = githubapi.MergeRetry{}.Do(ctx, func(ctx context.Context) (string, error) {
		return a.gh.Merge(ctx, a.repo, number, head, "Auto-merge", "")
	})
	if errors.Is(err, githubapi.ErrHeadModified) {
		return false, nil
	}
	return err == nil, err
}
