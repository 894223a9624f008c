package fanout

import (
	"context"
	"fmt"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// GitHub is what fan-out reads from GitHub: telefonistka.yaml at a commit
// (*githubapi.GitHub is one).
type GitHub interface {
	File(ctx context.Context, repo events.Repo, ref, path string) (data []byte, found bool, err error)
}

// configCache keeps the fan-out view of telefonistka.yaml per repository
// and commit. Commits are immutable, so entries are never invalidated, only
// evicted when the cache is full. Configuration errors are cached too;
// failed reads are not.
type configCache struct {
	gh    GitHub
	cache *githubapi.Cache[cachedConfig]
}

type cachedConfig struct {
	cfg *config.RepoConfig
	err error
}

// configCacheSize is how many (repo, commit) configurations are kept.
const configCacheSize = 256

func newConfigCache(gh GitHub, size int) *configCache {
	return &configCache{gh: gh, cache: githubapi.NewCache[cachedConfig](size)}
}

// get returns the configuration at commit. A configuration error is
// permanent (in the sense of bus.IsPermanent); other errors are as the
// reader classified them.
func (c *configCache) get(ctx context.Context, repo events.Repo, commit string) (*config.RepoConfig, error) {
	e, err := c.cache.Get(repo.String()+"@"+commit, func() (cachedConfig, error) {
		cfg, err := readConfig(ctx, c.gh, repo, commit)
		if bus.IsPermanent(err) {
			return cachedConfig{cfg: cfg, err: err}, nil
		}
		return cachedConfig{cfg: cfg}, err
	})
	if err != nil {
		return nil, err
	}
	return e.cfg, e.err
}

// readConfig reads and parses telefonistka.yaml at commit. A configuration
// error (an oversized, unreadable or invalid file, or a directory of that
// name) is permanent; other errors are as the adapter classified them.
func readConfig(ctx context.Context, gh GitHub, repo events.Repo, commit string) (*config.RepoConfig, error) {
	data, _, err := gh.File(ctx, repo, commit, config.RepoFileName)
	if err != nil {
		return nil, err
	}
	if err := config.CheckFileSize(config.RepoFileName, len(data)); err != nil {
		return nil, bus.Permanent(fmt.Errorf("%s of %s at %s: %w", config.RepoFileName, repo, commit, err))
	}
	cfg, err := fanoutConfig(data)
	if err != nil {
		return nil, bus.Permanent(fmt.Errorf("%s of %s at %s: %w", config.RepoFileName, repo, commit, err))
	}
	return cfg, nil
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
