package planner

import (
	"context"
	"errors"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

// commitFiles are the files of one commit: from its tree when the planner
// has it (a file is then read by blob, once for every commit that holds
// the same content), else through the contents API (a tree GitHub
// truncated).
type commitFiles struct {
	repo   events.Repo
	commit string
	tree   *githubapi.Tree // nil: the contents API
}

// configCache reads repository and component configuration files and
// keeps the parsed result per (repo, blob, path) or, read through the
// contents API, per (repo, commit, path). Both are immutable, so entries
// are only evicted when the cache is full. Parse results (configuration
// errors included) are cached; failed reads are not.
type configCache struct {
	gh    GitHub
	cache *githubapi.Cache[parsedFile]
}

type parsedFile struct {
	found     bool
	repo      *config.RepoConfig
	component *config.ComponentConfig
	// err is a *config.Error when the file has error findings.
	err error
}

func newConfigCache(gh GitHub, size int) *configCache {
	return &configCache{gh: gh, cache: githubapi.NewCache[parsedFile](size)}
}

// notAFile is the configuration error of a path that holds no file.
func notAFile(path, kind string) parsedFile {
	return parsedFile{found: true, err: config.FileError(path, "it is a "+kind+", not a file")}
}

func (c *configCache) load(ctx context.Context, src commitFiles, path string, parse func([]byte) parsedFile) (parsedFile, error) {
	if src.tree == nil {
		return c.cache.Get(src.repo.String()+"@"+src.commit+":"+path, func() (parsedFile, error) {
			data, found, err := c.gh.File(ctx, src.repo, src.commit, path)
			var naf *githubapi.NotAFileError
			if errors.As(err, &naf) {
				return notAFile(path, naf.Kind()), nil
			}
			if err != nil || !found {
				return parsedFile{}, err
			}
			return parseFile(path, data, parse), nil
		})
	}
	e, ok := src.tree.Entries[path]
	switch {
	case !ok:
		return parsedFile{}, nil
	case e.Type == treesync.TypeTree:
		return notAFile(path, "directory"), nil
	case e.Type == treesync.TypeCommit:
		return notAFile(path, "submodule"), nil
	case e.Mode == "120000":
		return notAFile(path, "symlink"), nil
	}
	return c.cache.Get(src.repo.String()+"@blob:"+e.SHA+":"+path, func() (parsedFile, error) {
		data, err := c.gh.Blob(ctx, src.repo, e.SHA)
		if err != nil {
			return parsedFile{}, err
		}
		return parseFile(path, data, parse), nil
	})
}

func parseFile(path string, data []byte, parse func([]byte) parsedFile) parsedFile {
	if err := config.CheckFileSize(path, len(data)); err != nil {
		return parsedFile{found: true, err: err}
	}
	v := parse(data)
	v.found = true
	return v
}

// repoConfig returns the repository configuration of src. found is false
// when the repository has no telefonistka.yaml. A configuration error is a
// *config.Error.
func (c *configCache) repoConfig(ctx context.Context, src commitFiles) (cfg *config.RepoConfig, found bool, err error) {
	v, err := c.load(ctx, src, config.RepoFileName, func(data []byte) parsedFile {
		cfg, err := config.LoadRepoConfig(config.RepoFileName, data)
		return parsedFile{repo: cfg, err: err}
	})
	if err != nil {
		return nil, false, err
	}
	return v.repo, v.found, v.err
}

// componentConfig returns a component's configuration in src: nil when it
// has none, a *config.Error when its file is invalid.
func (c *configCache) componentConfig(ctx context.Context, src commitFiles, componentPath string) (*config.ComponentConfig, error) {
	file := componentPath + "/" + config.RepoFileName
	v, err := c.load(ctx, src, file, func(data []byte) parsedFile {
		cfg, err := config.LoadComponentConfig(file, data)
		return parsedFile{component: cfg, err: err}
	})
	if err != nil {
		return nil, err
	}
	return v.component, v.err
}

// lookup adapts componentConfig to plan.ComponentConfigs for src.
func (c *configCache) lookup(ctx context.Context, src commitFiles) plan.ComponentConfigs {
	return plan.ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
		return c.componentConfig(ctx, src, path)
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
