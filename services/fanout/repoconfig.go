package fanout

import (
	"context"
	"errors"
	"fmt"
	lru "github.com/hashicorp/golang-lru/v2"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// repoFiles reads a repository's telefonistka.yaml at a commit; found is
// false when the file does not exist there.
type repoFiles interface {
	RepoConfigFile(ctx context.Context, repo events.Repo, commit string) (data []byte, found bool, err error)
}

// GitHubClients gives the REST client for a repo owner; *githubapi.Factory
// is one.
type GitHubClients interface {
	ForOwner(ctx context.Context, owner string) (*github.Client, error)
}

// githubFiles reads the file through the contents API.
type githubFiles struct{ clients GitHubClients }

func (g githubFiles) RepoConfigFile(ctx context.Context, repo events.Repo, commit string) ([]byte, bool, error) {
	client, err := g.clients.ForOwner(ctx, repo.Owner)
	if err != nil {
		return nil, false, fmt.Errorf("getting a GitHub client for %s: %w", repo.Owner, err)
	}
	file, dir, _, err := client.Repositories.GetContents(ctx, repo.Owner, repo.Name, config.RepoFileName,
		&github.RepositoryContentGetOptions{Ref: commit})
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, githubapi.Classify(fmt.Errorf("reading %s of %s at %s: %w", config.RepoFileName, repo, commit, err))
	}
	if file == nil || dir != nil {
		return nil, false, fmt.Errorf("reading %s of %s at %s: it is not a file", config.RepoFileName, repo, commit)
	}
	content, err := file.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decoding %s of %s at %s: %w", config.RepoFileName, repo, commit, err)
	}
	return []byte(content), true, nil
}

// configCache keeps the fan-out view of telefonistka.yaml per repository
// and commit. Commits are immutable, so entries are never invalidated, only
// evicted when the cache is full. Configuration errors are cached too;
// failed reads are not.
type configCache struct {
	files repoFiles
	mu    sync.Mutex
	lru   *lru.Cache[string, cachedConfig]
}

type cachedConfig struct {
	cfg *config.RepoConfig
	err error
}

// configCacheSize is how many (repo, commit) configurations are kept.
const configCacheSize = 256

func newConfigCache(files repoFiles, size int) *configCache {
	return &configCache{files: files, lru: newCache[string, cachedConfig](size)}
}

// get returns the configuration at commit. A configuration error is
// permanent (in the sense of bus.IsPermanent); other errors are as the
// reader classified them.
func (c *configCache) get(ctx context.Context, repo events.Repo, commit string) (*config.RepoConfig, error) {
	key := repo.String() + "@" + commit
	c.mu.Lock()
	e, ok := c.lru.Get(key)
	c.mu.Unlock()
	if ok {
		return e.cfg, e.err
	}
	data, _, err := c.files.RepoConfigFile(ctx, repo, commit)
	if err != nil {
		return nil, err
	}
	cfg, err := fanoutConfig(data)
	if err != nil {
		err = permanentError{fmt.Errorf("%s of %s at %s: %w", config.RepoFileName, repo, commit, err)}
	}
	c.mu.Lock()
	c.lru.Add(key, cachedConfig{cfg: cfg, err: err})
	c.mu.Unlock()
	return cfg, err
}

// fanoutConfig parses a repository file for fan-out. Only errors that
// affect fan-out (an unreadable document, webhookEndpointRegexs and
// whProxtSkipTLSVerifyUpstream) stop it: a mistake in promotionPaths must
// not stop the webhooks that deploy the repository.
func fanoutConfig(data []byte) (*config.RepoConfig, error) {
	cfg, findings := config.ParseRepoConfig(config.RepoFileName, data)
	var relevant []config.Finding
	for _, f := range config.Errors(findings) {
		if affectsFanout(f.Key) {
			relevant = append(relevant, f)
		}
	}
	if len(relevant) > 0 {
		return nil, &config.Error{File: config.RepoFileName, Findings: relevant}
	}
	return cfg, nil
}

func affectsFanout(key string) bool {
	return key == "" || key == config.RootKey ||
		hasKeyPrefix(key, "webhookEndpointRegexs") || hasKeyPrefix(key, "whProxtSkipTLSVerifyUpstream")
}

func hasKeyPrefix(key, prefix string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	return ok && (rest == "" || rest[0] == '[' || rest[0] == '.')
}

// permanentError marks an error retrying cannot fix (bus.IsPermanent).
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }
