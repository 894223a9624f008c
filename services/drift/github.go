package drift

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v52/github"
	"github.com/shurcooL/githubv4"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/drift/internal/treediff"
)

// GitHubClients gives GitHub clients per repo owner and the bot's
// identity; *githubapi.Factory is one.
type GitHubClients interface {
	ForOwner(ctx context.Context, owner string) (*github.Client, error)
	GraphQLForOwner(ctx context.Context, owner string) (*githubv4.Client, error)
	BotLogin(ctx context.Context) (string, error)
	InstallationOwners(ctx context.Context) ([]string, error)
	IsApp() bool
}

// repoAPI is the GitHub calls of one check on one repository.
type repoAPI struct {
	repo   events.Repo
	client *github.Client
	files  *fileCache
	trees  *treeCache
}

func (s *Service) repoAPI(ctx context.Context, repo events.Repo) (*repoAPI, error) {
	client, err := s.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, fmt.Errorf("getting a GitHub client for %s: %w", repo.Owner, err)
	}
	return &repoAPI{repo: repo, client: client, files: s.files, trees: s.trees}, nil
}

func (a *repoAPI) classify(err error, format string, args ...any) error {
	return githubapi.Classify(fmt.Errorf(format+": %w", append(args, err)...))
}

// branchHead resolves a branch to its head commit SHA.
func (a *repoAPI) branchHead(ctx context.Context, branch string) (string, error) {
	ref, _, err := a.client.Git.GetRef(ctx, a.repo.Owner, a.repo.Name, "heads/"+branch)
	if err != nil {
		return "", a.classify(err, "resolving branch %s of %s", branch, a.repo)
	}
	return ref.GetObject().GetSHA(), nil
}

// pull reads a pull request.
func (a *repoAPI) pull(ctx context.Context, number int) (*github.PullRequest, error) {
	pr, _, err := a.client.PullRequests.Get(ctx, a.repo.Owner, a.repo.Name, number)
	if err != nil {
		return nil, a.classify(err, "reading %s#%d", a.repo, number)
	}
	return pr, nil
}

// changedFile is one entry of a PR's file list.
type changedFile struct {
	Name     string
	Previous string // the old name of a rename
	Removed  bool
}

// pullFiles lists every page of a PR's changed files.
func (a *repoAPI) pullFiles(ctx context.Context, number int) ([]changedFile, error) {
	var out []changedFile
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := a.client.PullRequests.ListFiles(ctx, a.repo.Owner, a.repo.Name, number, opts)
		if err != nil {
			return nil, a.classify(err, "listing the files of %s#%d", a.repo, number)
		}
		for _, f := range page {
			out = append(out, changedFile{Name: f.GetFilename(), Previous: f.GetPreviousFilename(), Removed: f.GetStatus() == "removed"})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// file reads path at commit; found is false when it does not exist.
// Reads are cached per (repo, commit, path): commits are immutable.
func (a *repoAPI) file(ctx context.Context, commit, path string) (data []byte, found bool, err error) {
	return a.files.get(a.repo.String()+"@"+commit+":"+path, func() ([]byte, bool, error) {
		fc, dir, _, err := a.client.Repositories.GetContents(ctx, a.repo.Owner, a.repo.Name, path,
			&github.RepositoryContentGetOptions{Ref: commit})
		if isNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, a.classify(err, "reading %s of %s at %s", path, a.repo, commit)
		}
		if fc == nil || dir != nil {
			return nil, false, nil // a directory is no configuration file
		}
		content, err := fc.GetContent()
		if err != nil {
			return nil, false, fmt.Errorf("decoding %s of %s at %s: %w", path, a.repo, commit, err)
		}
		return []byte(content), true, nil
	})
}

func isNotFound(err error) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound
}

// tree reads the recursive tree of commit, once per (repo, commit). When
// GitHub truncates the listing, only the directories in dirs are read:
// each is found by walking its parents (one non-recursive read per level,
// shared between directories) and read recursively on its own.
func (a *repoAPI) tree(ctx context.Context, commit string, dirs []string) (*treediff.Tree, error) {
	key := a.repo.String() + "@" + commit
	if t, ok := a.trees.get(key); ok {
		return t, nil
	}
	entries, truncated, err := a.readTree(ctx, commit, "", true)
	if err != nil {
		return nil, err
	}
	if truncated {
		return a.partialTree(ctx, commit, dirs) // partial: not cached for other checks
	}
	tree := treediff.NewTree(entries)
	a.trees.add(key, tree)
	return tree, nil
}

// readTree lists a tree; paths get prefix.
func (a *repoAPI) readTree(ctx context.Context, sha, prefix string, recursive bool) ([]treediff.Entry, bool, error) {
	tr, _, err := a.client.Git.GetTree(ctx, a.repo.Owner, a.repo.Name, sha, recursive)
	if err != nil {
		return nil, false, a.classify(err, "reading tree %s of %s", sha, a.repo)
	}
	out := make([]treediff.Entry, 0, len(tr.Entries))
	for _, e := range tr.Entries {
		out = append(out, treediff.Entry{Path: prefix + e.GetPath(), Mode: e.GetMode(), Type: e.GetType(), SHA: e.GetSHA()})
	}
	return out, tr.GetTruncated(), nil
}

func (a *repoAPI) partialTree(ctx context.Context, commit string, dirs []string) (*treediff.Tree, error) {
	levels := map[string][]treediff.Entry{} // directory -> its direct entries
	list := func(dir, sha string) ([]treediff.Entry, error) {
		if l, ok := levels[dir]; ok {
			return l, nil
		}
		prefix := ""
		if dir != "" {
			prefix = dir + "/"
		}
		l, _, err := a.readTree(ctx, sha, prefix, false)
		if err != nil {
			return nil, err
		}
		levels[dir] = l
		return l, nil
	}
	var all []treediff.Entry
	for _, d := range dirs {
		d = strings.TrimSuffix(d, "/")
		sha, parent := commit, ""
		found := true
		for _, seg := range strings.Split(d, "/") {
			entries, err := list(parent, sha)
			if err != nil {
				return nil, err
			}
			next := joinPath(parent, seg)
			found = false
			for _, e := range entries {
				if e.Path == next && e.Type == treediff.TypeTree {
					sha, parent, found = e.SHA, next, true
					break
				}
			}
			if !found {
				break
			}
		}
		if !found {
			continue
		}
		entries, truncated, err := a.readTree(ctx, sha, d+"/", true)
		if err != nil {
			return nil, err
		}
		if truncated {
			return nil, fmt.Errorf("reading %s of %s at %s: GitHub truncated the listing of the directory", d, a.repo, commit)
		}
		all = append(all, treediff.Entry{Path: d, Type: treediff.TypeTree, SHA: sha})
		all = append(all, entries...)
	}
	return treediff.NewTree(all), nil
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// blob reads a blob's contents.
func (a *repoAPI) blob(ctx context.Context, sha string) ([]byte, error) {
	b, _, err := a.client.Git.GetBlob(ctx, a.repo.Owner, a.repo.Name, sha)
	if err != nil {
		return nil, a.classify(err, "reading blob %s of %s", sha, a.repo)
	}
	if b.GetEncoding() != "base64" {
		return []byte(b.GetContent()), nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b.GetContent(), "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("decoding blob %s of %s: %w", sha, a.repo, err)
	}
	return data, nil
}

// comment posts a bot comment.
func (a *repoAPI) comment(ctx context.Context, number int, body string) (*github.IssueComment, error) {
	return githubapi.PostComment(ctx, a.client.Issues, a.repo.Owner, a.repo.Name, number, body)
}

// statusEntry is one commit status of a context.
type statusEntry struct{ state, description string }

// statusHistory returns the statuses with context on ref, newest first
// (every page).
func (a *repoAPI) statusHistory(ctx context.Context, ref, statusContext string) ([]statusEntry, error) {
	var out []statusEntry
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := a.client.Repositories.ListStatuses(ctx, a.repo.Owner, a.repo.Name, ref, opts)
		if err != nil {
			return nil, a.classify(err, "listing the statuses of %s@%s", a.repo, ref)
		}
		for _, st := range page {
			if st.GetContext() == statusContext {
				out = append(out, statusEntry{state: st.GetState(), description: st.GetDescription()})
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
