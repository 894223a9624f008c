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

// checker is one run of this service's checks.
type checker struct {
	s   *Service
	log *slog.Logger
	api *repoAPI
	msg *bus.Message
	run prRun
	// rec is the run record as last read or written.
	rec *events.PRCheckRun
}

// check runs the open-PR checks of this service for run:
//  1. resolve the default branch head (one SHA for the whole check);
//  2. minimise the bot's earlier comments on the PR (once per run, again
//     on a redelivery), sparing the comments recorded for the run;
//  3. read telefonistka.yaml at that head, and validate the configuration
//     files the PR changes, at the PR head;
//  4. plan the PR as show-plan does and look for drift between each sync
//     pair's directories on the default branch head;
//  5. post the drift comment(s) and the configuration-error comment, and
//     publish drift.detected or drift.cleared.
func (c *checker) check(ctx context.Context) (outcome, error) {
	api, run := c.api, c.run
	base := run.BaseSHA
	if base == "" {
		var err error
		if base, err = api.branchHead(ctx, run.DefaultBranch); err != nil {
			return outcome{}, err
		}
	}
	// A redelivery minimises again: a comment an earlier delivery posted
	// but did not live to record would otherwise stay next to its repost.
	// The first delivery of a PR just opened has nothing to minimise: the
	// run is marked minimised without asking GitHub (argodiff waits for it).
	firstLook := run.Opened && c.msg.Delivery == 1
	switch {
	case firstLook && !c.rec.Minimized:
		if err := c.update(ctx, func(r *events.PRCheckRun) { r.Minimized = true }); err != nil {
			return outcome{}, err
		}
	case !firstLook && (!c.rec.Minimized || c.msg.Delivery > 1):
		if err := c.minimise(ctx); err != nil {
			return outcome{}, err
		}
	}
	repoData, _, err := api.file(ctx, base, config.RepoFileName)
	tooLarge, err := configError(err)
	if err != nil {
		return outcome{}, err
	}
	cfg, repoFindings := config.ParseRepoConfig(config.RepoFileName, repoData)
	if tooLarge != nil {
		cfg, repoFindings = nil, tooLarge.Findings
	}
	findings := config.Errors(repoFindings)
	if c.s.cfg.JoinArgoDiff && cfg != nil && cfg.ArgoCD.CommentDiffOnPR {
		// The Argo CD diff reports on this run too: the final status waits
		// for it (this check has not finished, so the run cannot end first).
		if err := c.update(ctx, func(r *events.PRCheckRun) { r.Expect(events.CheckerArgoDiff) }); err != nil {
			return outcome{}, err
		}
	}

	files, err := api.pullFiles(ctx, run.PR)
	if err != nil {
		return outcome{}, err
	}
	changed, err := c.validateChanged(ctx, files)
	if err != nil {
		return outcome{}, err
	}
	findings = append(findings, changed...)

	// With an unusable repository configuration nothing is planned, and
	// drift is neither detected nor cleared.
	usable := !config.HasErrors(repoFindings)
	var pairs []plan.SyncPair
	if usable {
		var planFindings []config.Finding
		pairs, planFindings, err = c.syncPairs(ctx, cfg, files)
		if err != nil {
			return outcome{}, err
		}
		findings = append(findings, planFindings...)
	}
	found, err := c.detect(ctx, base, pairs)
	if err != nil {
		return outcome{}, err
	}
	c.log.Info("drift check done", "compared_sha", base, "pairs", len(pairs), "drifted", len(found.sections), "config_errors", len(findings))

	ids, err := c.postDrift(ctx, found, base)
	if err != nil {
		return outcome{}, err
	}
	res := outcome{state: events.CheckSuccess}
	if len(findings) > 0 {
		findings = uniqueFindings(findings)
		body, err := c.s.planTexts.ConfigError(findings)
		if err != nil {
			return outcome{}, bus.Permanent(err)
		}
		if _, err := c.post(ctx, "config-error", body); err != nil {
			return outcome{}, err
		}
		res = outcome{state: events.CheckError, reason: (&config.Error{Findings: findings}).Error()}
	}
	if usable {
		if err := c.recordDrift(ctx, base, found, ids); err != nil {
			return outcome{}, err
		}
	}
	return res, nil
}

// minimise hides every earlier bot comment on the PR (all pages), sparing
// the comments of this run, and marks the run as minimised.
func (c *checker) minimise(ctx context.Context) error {
	bot, err := c.s.clients.BotLogin(ctx)
	if err != nil {
		return err
	}
	n, err := c.s.gh.MinimizeOutdated(ctx, c.run.Repo, c.run.PR,
		githubapi.MinimizeOptions{BotLogin: bot, Exclude: c.rec.CommentNodeIDs()})
	if err != nil {
		return err
	}
	if n > 0 {
		c.log.Info("minimised earlier bot comments", "count", n)
	}
	return c.update(ctx, func(r *events.PRCheckRun) { r.Minimized = true })
}

// update changes the run record and keeps what was stored.
func (c *checker) update(ctx context.Context, change func(*events.PRCheckRun)) error {
	next, err := c.s.runs.Modify(ctx, c.run.key(), c.run.ID, change)
	if err != nil {
		return err
	}
	if next != nil {
		c.rec = next
	}
	return nil
}

// validateChanged validates, at the PR head, every telefonistka.yaml the PR
// adds or modifies: the root one as the repository file, the others as
// component files. It returns the error findings.
func (c *checker) validateChanged(ctx context.Context, files []githubapi.ChangedFile) ([]config.Finding, error) {
	var findings []config.Finding
	for _, f := range files {
		if f.Status == "removed" || path.Base(f.Name) != config.RepoFileName {
			continue
		}
		data, found, err := c.api.file(ctx, c.run.HeadSHA, f.Name)
		tooLarge, err := configError(err)
		if err != nil {
			return nil, err
		}
		if tooLarge != nil {
			findings = append(findings, tooLarge.Findings...)
			continue
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
func (c *checker) syncPairs(ctx context.Context, cfg *config.RepoConfig, files []githubapi.ChangedFile) ([]plan.SyncPair, []config.Finding, error) {
	api, run := c.api, c.run
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
	err := forEach(ctx, c.s.cfg.BlobConcurrency, components, func(ctx context.Context, p string) error {
		_, _, err := api.file(ctx, run.HeadSHA, componentFile(p))
		_, err = configError(err) // an oversized file is reported below
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
func (c *checker) post(ctx context.Context, part, body string) (int64, error) {
	if done, ok := c.rec.Comment(Checker, part); ok {
		return done.ID, nil
	}
	ic, err := c.api.comment(ctx, c.run.PR, body)
	if err != nil {
		return 0, err
	}
	rc := events.RunComment{Checker: Checker, Part: part, ID: ic.ID, NodeID: ic.NodeID}
	if err := c.update(ctx, func(r *events.PRCheckRun) { r.AddComment(rc) }); err != nil {
		return 0, err
	}
	return rc.ID, nil
}
