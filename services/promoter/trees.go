package promoter

import (
	"context"
	"errors"
	lru "github.com/hashicorp/golang-lru/v2"
	"sync"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// tree is a commit's recursive tree, indexed, with its root tree SHA.
type tree struct {
	ix  *treesync.Index
	sha string
}

// treeCache reads each commit's tree once: commits are immutable, so the
// merge commit's tree serves every entry of a run and the default branch
// head's tree every entry until the head moves.
type treeCache struct {
	gh  GitHub
	mu  sync.Mutex
	lru *lru.Cache[string, *tree]
}

func newTreeCache(gh GitHub, size int) *treeCache {
	return &treeCache{gh: gh, lru: newCache[string, *tree](size)}
}

func (c *treeCache) get(ctx context.Context, repo events.Repo, commit string) (*tree, error) {
	key := repo.String() + "@" + commit
	c.mu.Lock()
	t, ok := c.lru.Get(key)
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	flat, sha, err := c.gh.Tree(ctx, repo, commit)
	if err != nil {
		return nil, err
	}
	t = &tree{ix: treesync.NewIndex(flat), sha: sha}
	c.mu.Lock()
	c.lru.Add(key, t)
	c.mu.Unlock()
	return t, nil
}

// componentConfigs parses component files found in source trees, keyed by
// (blob, path) so a parse result never names another file.
type componentConfigs struct {
	gh  GitHub
	mu  sync.Mutex
	lru *lru.Cache[string, parsedComponent]
}

type parsedComponent struct {
	cfg *config.ComponentConfig
	err error
}

func newComponentConfigs(gh GitHub, size int) *componentConfigs {
	return &componentConfigs{gh: gh, lru: newCache[string, parsedComponent](size)}
}

// lookup returns the component configurations of the source tree src: a
// component without a telefonistka.yaml has none; an invalid file is a
// *config.Error (the component fails closed); a failed read is an error.
func (c *componentConfigs) lookup(ctx context.Context, repo events.Repo, src *tree) plan.ComponentConfigs {
	return plan.ComponentConfigFunc(func(componentPath string) (*config.ComponentConfig, error) {
		file := componentPath + "/" + config.RepoFileName
		e, ok := src.ix.Lookup(file)
		if !ok || e.Type != treesync.TypeBlob {
			return nil, nil
		}
		key := repo.String() + "@" + e.SHA + ":" + file
		c.mu.Lock()
		p, cached := c.lru.Get(key)
		c.mu.Unlock()
		if cached {
			return p.cfg, p.err
		}
		data, err := c.gh.Blob(ctx, repo, e.SHA)
		if err != nil {
			return nil, err
		}
		cfg, err := config.LoadComponentConfig(file, data)
		c.mu.Lock()
		c.lru.Add(key, parsedComponent{cfg: cfg, err: err})
		c.mu.Unlock()
		return cfg, err
	})
}

// readErrors returns the component errors that are failed reads (not
// invalid files), which abort the entry so it is retried.
func readErrors(errs []plan.ComponentError) error {
	var out []error
	for _, ce := range errs {
		var cfgErr *config.Error
		if !errors.As(ce.Err, &cfgErr) {
			out = append(out, ce)
		}
	}
	return errors.Join(out...)
}
