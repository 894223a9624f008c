package promoter

import (
	"context"
	"errors"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
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
	gh    GitHub
	cache *githubapi.Cache[*tree]
}

func newTreeCache(gh GitHub, size int) *treeCache {
	return &treeCache{gh: gh, cache: githubapi.NewCache[*tree](size)}
}

func (c *treeCache) get(ctx context.Context, repo events.Repo, commit string) (*tree, error) {
	return c.cache.Get(repo.String()+"@"+commit, func() (*tree, error) {
		t, err := c.gh.Tree(ctx, repo, commit, nil)
		if err != nil {
			return nil, err
		}
		return &tree{ix: treesync.NewIndex(t.Entries), sha: t.SHA}, nil
	})
}

// componentConfigs parses component files found in source trees, keyed by
// (blob, path) so a parse result never names another file.
type componentConfigs struct {
	gh    GitHub
	cache *githubapi.Cache[parsedComponent]
}

type parsedComponent struct {
	cfg *config.ComponentConfig
	err error
}

func newComponentConfigs(gh GitHub, size int) *componentConfigs {
	return &componentConfigs{gh: gh, cache: githubapi.NewCache[parsedComponent](size)}
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
		p, err := c.cache.Get(repo.String()+"@"+e.SHA+":"+file, func() (parsedComponent, error) {
			data, err := c.gh.Blob(ctx, repo, e.SHA)
			if err != nil {
				return parsedComponent{}, err
			}
			cfg, err := config.LoadComponentConfig(file, data)
			return parsedComponent{cfg: cfg, err: err}, nil
		})
		if err != nil {
			return nil, err
		}
		return p.cfg, p.err
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
