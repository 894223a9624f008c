package planner

import (
	"context"
	"errors"
	lru "github.com/hashicorp/golang-lru/v2"
	"sync"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan"
)

// configCache reads repository and component configuration files at a
// commit and keeps the parsed result per (repo, commit, path). Commits are
// immutable, so entries are only evicted when the cache is full. Parse
// results (configuration errors included) are cached; failed reads are
// not.
type configCache struct {
	gh  GitHub
	mu  sync.Mutex
	lru *lru.Cache[string, parsedFile]
}

type parsedFile struct {
	found     bool
	repo      *config.RepoConfig
	component *config.ComponentConfig
	// err is a *config.Error when the file has error findings.
	err error
}

func newConfigCache(gh GitHub, size int) *configCache {
	return &configCache{gh: gh, lru: newCache[string, parsedFile](size)}
}

func (c *configCache) load(ctx context.Context, repo events.Repo, commit, path string, parse func([]byte) parsedFile) (parsedFile, error) {
	key := repo.String() + "@" + commit + ":" + path
	c.mu.Lock()
	v, ok := c.lru.Get(key)
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	data, found, err := c.gh.File(ctx, repo, commit, path)
	if err != nil {
		return parsedFile{}, err
	}
	v = parse(data)
	v.found = found
	c.mu.Lock()
	c.lru.Add(key, v)
	c.mu.Unlock()
	return v, nil
}

// repoConfig returns the repository configuration at commit. found is false
// when the repository has no telefonistka.yaml. A configuration error is a
// *config.Error.
func (c *configCache) repoConfig(ctx context.Context, repo events.Repo, commit string) (cfg *config.RepoConfig, found bool, err error) {
	v, err := c.load(ctx, repo, commit, config.RepoFileName, func(data []byte) parsedFile {
		cfg, err := config.LoadRepoConfig(config.RepoFileName, data)
		return parsedFile{repo: cfg, err: err}
	})
	if err != nil {
		return nil, false, err
	}
	return v.repo, v.found, v.err
}

// componentConfig returns a component's configuration at commit: nil when
// it has none, a *config.Error when its file is invalid.
func (c *configCache) componentConfig(ctx context.Context, repo events.Repo, commit, componentPath string) (*config.ComponentConfig, error) {
	file := componentPath + "/" + config.RepoFileName
	v, err := c.load(ctx, repo, commit, file, func(data []byte) parsedFile {
		cfg, err := config.LoadComponentConfig(file, data)
		return parsedFile{component: cfg, err: err}
	})
	if err != nil {
		return nil, err
	}
	return v.component, v.err
}

// lookup adapts componentConfig to plan.ComponentConfigs for one commit.
func (c *configCache) lookup(ctx context.Context, repo events.Repo, commit string) plan.ComponentConfigs {
	return plan.ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
		return c.componentConfig(ctx, repo, commit, path)
	})
}

// splitComponentErrors separates the components whose configuration is
// invalid (they fail closed; their findings go into the comment) from read
// failures, which abort the event so it is retried.
func splitComponentErrors(errs []plan.ComponentError) (findings []config.Finding, bad int, readErr error) {
	var readErrs []error
	for _, ce := range errs {
		var cfgErr *config.Error
		if errors.As(ce.Err, &cfgErr) {
			findings = append(findings, cfgErr.Findings...)
			bad++
			continue
		}
		readErrs = append(readErrs, ce)
	}
	return findings, bad, errors.Join(readErrs...)
}
