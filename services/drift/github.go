package drift

import (
	"context"
	"errors"
	"fmt"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// GitHubClients gives GitHub clients per repo owner and the bot's
// identity; *githubapi.Factory is one. Every call goes through githubapi's
// adapter built on it.
type GitHubClients interface {
	githubapi.Clients
	BotLogin(ctx context.Context) (string, error)
	InstallationOwners(ctx context.Context) ([]string, error)
	IsApp() bool
}

// GitHub is what drift does on GitHub's REST API (*githubapi.GitHub is
// one). Every error is classified for the bus.
type GitHub interface {
	BranchHead(ctx context.Context, repo events.Repo, branch string) (sha string, found bool, err error)
	Pull(ctx context.Context, repo events.Repo, number int) (githubapi.Pull, error)
	PullFiles(ctx context.Context, repo events.Repo, number int) ([]githubapi.ChangedFile, error)
	File(ctx context.Context, repo events.Repo, ref, path string) (data []byte, found bool, err error)
	Tree(ctx context.Context, repo events.Repo, commit string, dirs []string) (githubapi.Tree, error)
	Blob(ctx context.Context, repo events.Repo, sha string) ([]byte, error)
	Comment(ctx context.Context, repo events.Repo, number int, body string) (githubapi.PostedComment, error)
	MinimizeOutdated(ctx context.Context, repo events.Repo, number int, opts githubapi.MinimizeOptions) (int, error)
	Statuses(ctx context.Context, repo events.Repo, ref string) ([]githubapi.CommitStatus, error)
	SetStatus(ctx context.Context, repo events.Repo, pr int, sha, state, reason string) error
	SetStatusAs(ctx context.Context, repo events.Repo, pr int, sha string, st githubapi.CommitStatus) error
	Permission(ctx context.Context, repo events.Repo, login string) (string, error)
	// For the open-PR metrics:
	OpenPulls(ctx context.Context, repo events.Repo, base string) ([]githubapi.Pull, error)
	LatestStatus(ctx context.Context, repo events.Repo, ref, statusContext string) (githubapi.CommitStatus, bool, error)
	InstallationRepos(ctx context.Context, owner string) ([]events.Repo, error)
}

// repoAPI is the GitHub calls of one check on one repository, with the
// service's caches of files and trees (commits are immutable).
type repoAPI struct {
	repo  events.Repo
	gh    GitHub
	files *githubapi.Cache[cachedFile]
	trees *githubapi.Cache[*treediff.Tree]
}

func (s *Service) repoAPI(_ context.Context, repo events.Repo) (*repoAPI, error) {
	return &repoAPI{repo: repo, gh: s.gh, files: s.files, trees: s.trees}, nil
}

// branchHead resolves a branch to its head commit SHA.
func (a *repoAPI) branchHead(ctx context.Context, branch string) (string, error) {
	sha, found, err := a.gh.BranchHead(ctx, a.repo, branch)
	if err == nil && !found {
		err = fmt.Errorf("branch %s of %s does not exist", branch, a.repo)
	}
	return sha, err
}

// pull reads a pull request.
func (a *repoAPI) pull(ctx context.Context, number int) (githubapi.Pull, error) {
	return a.gh.Pull(ctx, a.repo, number)
}

// pullFiles lists every page of a PR's changed files.
func (a *repoAPI) pullFiles(ctx context.Context, number int) ([]githubapi.ChangedFile, error) {
	return a.gh.PullFiles(ctx, a.repo, number)
}

// file reads a configuration file at commit; found is false when it does
// not exist. A file over config.MaxFileBytes, or a directory of that name,
// is found, with a *config.Error. Reads are cached per (repo, commit, path).
func (a *repoAPI) file(ctx context.Context, commit, path string) (data []byte, found bool, err error) {
	f, err := a.files.Get(a.repo.String()+"@"+commit+":"+path, func() (cachedFile, error) {
		data, found, err := a.gh.File(ctx, a.repo, commit, path)
		var notAFile *githubapi.NotAFileError
		if errors.As(err, &notAFile) {
			return cachedFile{found: true, err: config.FileError(path, "it is a "+notAFile.Kind()+", not a file")}, nil
		}
		if err != nil {
			return cachedFile{}, err
		}
		if err := config.CheckFileSize(path, len(data)); err != nil {
			return cachedFile{found: true, err: err}, nil
		}
		return cachedFile{data: data, found: found}, nil
	})
	if err == nil {
		err = f.err
	}
	return f.data, f.found, err
}

// configError splits what file returned: a configuration file that cannot
// be read as one (too large, a directory) is a *config.Error, reported like
// one that does not parse; anything else is a read failure.
func configError(err error) (*config.Error, error) {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return cfgErr, nil
	}
	return nil, err
}

// cachedFile is a configuration file read at a commit; a missing file is
// cached as not found, an unreadable one with its *config.Error.
type cachedFile struct {
	data  []byte
	found bool
	err   error
}

// errPartial: GitHub truncated the tree, so only some directories were read.
var errPartial = errors.New("partial tree")

// tree reads the recursive tree of commit, once per (repo, commit). When
// GitHub truncates the listing, only the directories in dirs are read (the
// adapter walks to each), and that partial tree is not cached for other
// checks.
func (a *repoAPI) tree(ctx context.Context, commit string, dirs []string) (*treediff.Tree, error) {
	var partial *treediff.Tree
	full, err := a.trees.Get(a.repo.String()+"@"+commit, func() (*treediff.Tree, error) {
		t, err := a.gh.Tree(ctx, a.repo, commit, dirs)
		if err != nil {
			return nil, err
		}
		if t.Partial {
			partial = diffTree(t)
			return nil, errPartial
		}
		return diffTree(t), nil
	})
	switch {
	case partial != nil:
		return partial, nil
	case errors.Is(err, errPartial): // another check's load found it truncated
		t, err := a.gh.Tree(ctx, a.repo, commit, dirs)
		if err != nil {
			return nil, err
		}
		return diffTree(t), nil
	}
	return full, err
}

func diffTree(t githubapi.Tree) *treediff.Tree {
	entries := make([]treediff.Entry, 0, len(t.Entries))
	for p, e := range t.Entries {
		entries = append(entries, treediff.Entry{Path: p, Mode: e.Mode, Type: e.Type, SHA: e.SHA})
	}
	return treediff.NewTree(entries)
}

// blob reads a blob's contents.
func (a *repoAPI) blob(ctx context.Context, sha string) ([]byte, error) {
	return a.gh.Blob(ctx, a.repo, sha)
}

// comment posts a bot comment.
func (a *repoAPI) comment(ctx context.Context, number int, body string) (githubapi.PostedComment, error) {
	return a.gh.Comment(ctx, a.repo, number, body)
}

// statusHistory returns the statuses with context on ref, newest first
// (every page).
func (a *repoAPI) statusHistory(ctx context.Context, ref, statusContext string) ([]githubapi.CommitStatus, error) {
	all, err := a.gh.Statuses(ctx, a.repo, ref)
	if err != nil {
		return nil, err
	}
	var out []githubapi.CommitStatus
	for _, st := range all {
		if st.Context == statusContext {
			out = append(out, st)
		}
	}
	return out, nil
}
