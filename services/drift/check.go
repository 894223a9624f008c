package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
)

// check runs the open-PR checks of this service for run:
//  1. resolve the default branch head (one SHA for the whole check);
//  2. minimise the bot's earlier comments on the PR (once per run);
//  3. read telefonistka.yaml at that head, and validate the configuration
//     files the PR changes, at the PR head;
//  4. plan the PR as show-plan does and look for drift between each sync
//     pair's directories on the default branch head;
//  5. post the drift comment(s) and the configuration-error comment, and
//     publish drift.detected or drift.cleared.
func (s *Service) check(ctx context.Context, log *slog.Logger, api *repoAPI, m *bus.Message, run prRun, rec *events.PRCheckRun) (outcome, error) {
	base, err := api.branchHead(ctx, run.DefaultBranch)
	if err != nil {
		return outcome{}, err
	}
	if !rec.Minimized {
		if rec, err = s.minimise(ctx, log, run, rec); err != nil {
			return outcome{}, err
		}
	}
	repoData, _, err := api.file(ctx, base, config.RepoFileName)
	if err != nil {
		return outcome{}, err
	}
	cfg, repoFindings := config.ParseRepoConfig(config.RepoFileName, repoData)
	findings := config.Errors(repoFindings)

	files, err := api.pullFiles(ctx, run.PR)
	if err != nil {
		return outcome{}, err
	}
	changed, err := s.validateChanged(ctx, api, run.HeadSHA, files)
	if err != nil {
		return outcome{}, err
	}
	findings = append(findings, changed...)

	var pairs []plan.SyncPair
	if !config.HasErrors(repoFindings) {
		var planFindings []config.Finding
		pairs, planFindings, err = s.syncPairs(ctx, api, run, cfg, files)
		if err != nil {
			return outcome{}, err
		}
		findings = append(findings, planFindings...)
	}
	found, err := s.detect(ctx, api, base, pairs)
	if err != nil {
		return outcome{}, err
	}
	log.Info("drift check done", "compared_sha", base, "pairs", len(pairs), "drifted", len(found.sections), "config_errors", len(findings))

	ids, err := s.postDrift(ctx, api, run, &rec, found, base)
	if err != nil {
		return outcome{}, err
	}
	res := outcome{state: events.CheckSuccess}
	if len(findings) > 0 {
		findings = uniqueFindings(findings)
		body, err := s.planTexts.ConfigError(findings)
		if err != nil {
			return outcome{}, bus.Permanent(err)
		}
		if _, err := s.post(ctx, api, run, &rec, "config-error", body); err != nil {
			return outcome{}, err
		}
		res = outcome{state: events.CheckError, reason: (&config.Error{Findings: findings}).Error()}
	}
	if err := s.recordDrift(ctx, m, run, base, found, ids); err != nil {
		return outcome{}, err
	}
	return res, nil
}

// minimise hides every earlier bot comment on the PR (all pages), sparing
// the comments of this run, and marks the run as minimised.
func (s *Service) minimise(ctx context.Context, log *slog.Logger, run prRun, rec *events.PRCheckRun) (*events.PRCheckRun, error) {
	bot, err := s.clients.BotLogin(ctx)
	if err != nil {
		return nil, err
	}
	gql, err := s.clients.GraphQLForOwner(ctx, run.Repo.Owner)
	if err != nil {
		return nil, err
	}
	n, err := githubapi.MinimizeOutdated(ctx, gql, run.Repo.Owner, run.Repo.Name, run.PR,
		githubapi.MinimizeOptions{BotLogin: bot, Exclude: rec.CommentNodeIDs()})
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("minimised earlier bot comments", "count", n)
	}
	next, err := s.runs.modify(ctx, run.key(), run.ID, func(r *events.PRCheckRun) { r.Minimized = true })
	if err != nil {
		return nil, err
	}
	if next == nil {
		return rec, nil
	}
	return next, nil
}

// validateChanged validates, at the PR head, every telefonistka.yaml the PR
// adds or modifies: the root one as the repository file, the others as
// component files. It returns the error findings.
func (s *Service) validateChanged(ctx context.Context, api *repoAPI, head string, files []changedFile) ([]config.Finding, error) {
	var findings []config.Finding
	for _, f := range files {
		if f.Removed || path.Base(f.Name) != config.RepoFileName {
			continue
		}
		data, found, err := api.file(ctx, head, f.Name)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		var fs []config.Finding
		if f.Name == config.RepoFileName {
			_, fs = config.ParseRepoConfig(f.Name, data)
		} else {
			_, fs = config.ParseComponentConfig(f.Name, data)
		}
		findings = append(findings, config.Errors(fs)...)
	}
	return findings, nil
}

// syncPairs plans the PR as show-plan does: repo configuration from the
// default branch, the PR's changed files (both names of a rename) and
// labels, component configurations at the PR head. It returns the distinct
// sync pairs, and the findings of components whose configuration is
// invalid (they fail closed). A component configuration that cannot be
// read is an error, so the check is retried.
func (s *Service) syncPairs(ctx context.Context, api *repoAPI, run prRun, cfg *config.RepoConfig, files []changedFile) ([]plan.SyncPair, []config.Finding, error) {
	var changed []string
	for _, f := range files {
		changed = append(changed, f.Name)
		if f.Previous != "" {
			changed = append(changed, f.Previous)
		}
	}
	in := plan.Input{Config: cfg, ChangedFiles: changed, Labels: run.Labels}
	// Planning is cheap; a first pass tells which component files to read,
	// so they are read concurrently.
	var components []string
	in.Components = plan.ComponentConfigFunc(func(p string) (*config.ComponentConfig, error) {
		components = append(components, p)
		return nil, nil
	})
	plan.Compute(in)
	err := forEach(ctx, s.cfg.BlobConcurrency, components, func(ctx context.Context, p string) error {
		_, _, err := api.file(ctx, run.HeadSHA, componentFile(p))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	in.Components = plan.ComponentConfigFunc(func(p string) (*config.ComponentConfig, error) {
		data, found, err := api.file(ctx, run.HeadSHA, componentFile(p))
		if err != nil || !found {
			return nil, err
		}
		return config.LoadComponentConfig(componentFile(p), data)
	})
	pl := plan.Compute(in)
	var findings []config.Finding
	for _, ce := range pl.ComponentErrors {
		var cfgErr *config.Error
		if !errors.As(ce.Err, &cfgErr) {
			return nil, nil, fmt.Errorf("reading the configuration of %s: %w", ce.ComponentPath, ce.Err)
		}
		findings = append(findings, config.Errors(cfgErr.Findings)...)
	}
	seen := map[plan.SyncPair]bool{}
	var pairs []plan.SyncPair
	for _, e := range pl.Entries {
		for _, p := range e.Sync {
			if !seen[p] {
				seen[p] = true
				pairs = append(pairs, p)
			}
		}
	}
	return pairs, findings, nil
}

func componentFile(componentPath string) string { return componentPath + "/" + config.RepoFileName }

// uniqueFindings sorts findings and drops repeats (a changed component
// file is both validated and read by the plan).
func uniqueFindings(fs []config.Finding) []config.Finding {
	config.SortFindings(fs)
	return slices.CompactFunc(fs, func(a, b config.Finding) bool { return a.CommentLine() == b.CommentLine() })
}

// post comments body as part of this run, unless an earlier delivery of
// the run already did, and records it in the run record.
func (s *Service) post(ctx context.Context, api *repoAPI, run prRun, rec **events.PRCheckRun, part, body string) (int64, error) {
	if c, ok := (*rec).Comment(Checker, part); ok {
		return c.ID, nil
	}
	ic, err := api.comment(ctx, run.PR, body)
	if err != nil {
		return 0, err
	}
	rc := events.RunComment{Checker: Checker, Part: part, ID: ic.GetID(), NodeID: ic.GetNodeID()}
	next, err := s.runs.modify(ctx, run.key(), run.ID, func(r *events.PRCheckRun) { r.AddComment(rc) })
	if err != nil {
		return 0, err
	}
	if next != nil {
		*rec = next
	}
	return rc.ID, nil
}
