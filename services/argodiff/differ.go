package argodiff

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"golang.org/x/sync/errgroup"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/metadata"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/comment"
)

// Labels the diff reads and writes.
const (
	LabelNoop      = "noop"
	LabelPromotion = "promotion"
)

// differ is one run of the Argo CD diff of a PR.
type differ struct {
	s   *Service
	log *slog.Logger
	api *repoAPI
	msg *bus.Message
	run prRun
	cfg *config.RepoConfig
	// finder is shared by the components of the run (one application
	// listing, one settings read).
	finder *finder
}

// componentResult is one component's diff.
type componentResult struct {
	block comment.Component
	// err is the failure of an "error" block; transient tells whether a
	// later delivery may succeed.
	err       error
	transient bool
}

// execute diffs the PR's components, comments the result, sets or removes the
// noop label and merges a no-diff promotion PR when configured.
func (d *differ) execute(ctx context.Context) (outcome, error) {
	if d.s.argo == nil {
		return d.noConnection(ctx)
	}
	paths, err := d.components(ctx)
	if err != nil {
		return outcome{}, err
	}
	results := d.diffAll(ctx, paths)
	if ctx.Err() != nil {
		return outcome{}, ctx.Err()
	}
	// An Argo CD outage delays the comment: the run is delivered again with
	// backoff, and only the last delivery comments the errors.
	for _, r := range results {
		if r.transient && !d.msg.Final(r.err) {
			return outcome{}, fmt.Errorf("diffing %s: %w", r.block.Path, r.err)
		}
	}
	blocks := make([]comment.Component, len(results))
	for i, r := range results {
		blocks[i] = r.block
	}
	ids, err := d.post(ctx, blocks)
	if err != nil {
		return outcome{}, err
	}
	noDiff := allNoDiff(blocks)
	// The PR as it is now: labels are often added after the opened event
	// (promotion PRs are labelled right after they are created).
	pr, err := d.api.pull(ctx, d.run.PR)
	if err != nil {
		return outcome{}, err
	}
	d.run.Labels = pr.Labels
	// A PR merged or closed while its diff ran keeps its labels: Argo CD
	// may already run what it merged, so "no diff" would say nothing of
	// the PR.
	if pr.State != "open" {
		d.log.Info("the PR was closed while its diff ran; leaving its labels", "merged", pr.Merged)
	} else if err := d.noopLabel(ctx, noDiff); err != nil {
		return outcome{}, err
	}
	res := outcome{state: events.CheckSuccess}
	var failed []string
	for _, r := range results {
		if r.err != nil {
			failed = append(failed, r.block.Path)
		}
	}
	if len(failed) > 0 {
		res = outcome{state: events.CheckError, reason: "Argo CD diff failed for " + strings.Join(failed, ", ")}
	}
	merged := false
	if d.cfg.ArgoCD.AutoMergeNoDiffPRs && noDiff && len(blocks) > 0 && d.isPromotion() {
		if merged, err = d.autoMerge(ctx, pr, blocks); err != nil {
			return outcome{}, err
		}
		if !merged {
			res = outcome{state: events.CheckError, reason: "the no-diff promotion PR could not be merged"}
		}
	}
	d.log.Info("Argo CD diff done", "components", len(blocks), "failed", len(failed), "no_diff", noDiff, "auto_merged", merged, "comments", len(ids))
	d.s.publish(ctx, d.msg, d.run, commentedEvent(d.run, blocks, ids, noDiff, merged))
	return res, nil
}

// diffAll diffs the components, ARGOCD_DIFF_CONCURRENCY at a time.
func (d *differ) diffAll(ctx context.Context, paths []string) []componentResult {
	d.finder = newFinder(d.s.argo, d.run.HTMLURL, d.cfg.ArgoCD)
	results := make([]componentResult, len(paths))
	var g errgroup.Group
	g.SetLimit(d.s.cfg.Concurrency)
	for i, p := range paths {
		g.Go(func() error {
			results[i] = d.diffComponent(ctx, p)
			return nil
		})
	}
	_ = g.Wait()
	return results
}

func allNoDiff(blocks []comment.Component) bool {
	for _, b := range blocks {
		if b.Result != comment.ResultNoDiff {
			return false
		}
	}
	return true
}

// components are the PR's component paths: a promotion PR's promoted
// paths, or the components of the changed files (SPEC §7.1).
func (d *differ) components(ctx context.Context) ([]string, error) {
	return prComponents(ctx, d.api, d.run.PR, d.run.Body, d.cfg)
}

func prComponents(ctx context.Context, api *repoAPI, pr int, body string, cfg *config.RepoConfig) ([]string, error) {
	if md, err := metadata.Extract(body); err == nil && md != nil && len(md.PromotedPaths) > 0 {
		seen := map[string]bool{}
		var out []string
		for _, p := range md.PromotedPaths {
			p = strings.Trim(p, "/")
			if p != "" && config.SafeRepoPath(p) && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		sort.Strings(out)
		return out, nil
	}
	files, err := api.changedFiles(ctx, pr)
	if err != nil {
		return nil, err
	}
	return plan.ChangedComponents(cfg, files), nil
}

// diffComponent diffs one component; failures become its error block.
func (d *differ) diffComponent(ctx context.Context, path string) componentResult {
	block := comment.Component{Path: path, TempAppsEnabled: d.cfg.ArgoCD.CreateTempAppObjectFromNewApps}
	redact, err := d.redacted(ctx, path)
	if err != nil {
		return failed(block, err)
	}
	found, err := d.finder.find(ctx, path, d.run.HeadBranch)
	if err != nil {
		return failed(block, err)
	}
	if found == nil {
		block.Result = comment.ResultNoApp
		return componentResult{block: block}
	}
	st, err := d.finder.readSettings(ctx)
	if err != nil {
		return failed(block, err)
	}
	d.fill(&block, found, st.URL)
	if found.syncedFromBranch(d.run.HeadBranch) {
		block.Result = comment.ResultSynced
		return componentResult{block: block}
	}
	objs, err := d.finder.diff(ctx, found.app, d.run.HeadSHA)
	if err != nil {
		block.KeptTemp = found.temporary
		return failed(block, err)
	}
	if found.temporary {
		if err := d.s.argo.DeleteApp(ctx, appRef(found.app)); err != nil {
			d.log.Warn("deleting the temporary application failed", "app", found.app.Name, "error", err)
		}
	}
	if len(objs) == 0 {
		block.Result = comment.ResultNoDiff
		return componentResult{block: block}
	}
	block.Result = comment.ResultDiff
	for _, o := range objs {
		text, err := o.Text()
		if err != nil {
			return failed(block, err)
		}
		block.Objects = append(block.Objects, comment.NewObject(o.Title(), text, redact))
	}
	return componentResult{block: block}
}

func failed(block comment.Component, err error) componentResult {
	return componentResult{block: comment.NewError(block, err), err: err, transient: !bus.IsPermanent(err)}
}

// fill sets the application fields of a block.
func (d *differ) fill(b *comment.Component, f *foundApp, argoURL string) {
	a := f.app
	b.App = a.Name
	b.AppURL = strings.TrimSuffix(argoURL, "/") + "/applications/" + a.Name
	b.Temporary = f.temporary
	b.Health = string(a.Status.Health.Status)
	b.Sync = string(a.Status.Sync.Status)
	b.AutoSync = a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil
}

// redacted reads the component's configuration at the PR head: an invalid
// one fails the component (closed), disableArgoCDDiff redacts it.
func (d *differ) redacted(ctx context.Context, path string) (bool, error) {
	file := path + "/" + config.RepoFileName
	data, found, err := d.api.file(ctx, d.run.HeadSHA, file)
	if err != nil || !found {
		return false, err
	}
	cc, err := config.LoadComponentConfig(file, data)
	if err != nil {
		return false, bus.Permanent(err)
	}
	return cc != nil && cc.DisableArgoCDDiff, nil
}

// isPromotion reports whether the PR is a promotion PR: labelled promotion,
// or carrying promotion metadata (set when the PR is created, before it is
// labelled).
func (d *differ) isPromotion() bool {
	if d.run.hasLabel(LabelPromotion) {
		return true
	}
	md, err := metadata.Extract(d.run.Body)
	return err == nil && md != nil && len(md.PromotedPaths) > 0
}

// noopLabel adds noop when every component has no diff, and removes it
// otherwise.
func (d *differ) noopLabel(ctx context.Context, noDiff bool) error {
	has := d.run.hasLabel(LabelNoop)
	switch {
	case noDiff && !has:
		return d.api.addLabel(ctx, d.run.PR, LabelNoop)
	case !noDiff && has:
		return d.api.removeLabel(ctx, d.run.PR, LabelNoop)
	}
	return nil
}

// autoMerge merges the no-diff promotion PR unless it is already merged
// (a redelivery, or merged by someone else meanwhile), after commenting
// why. A merge GitHub refuses is commented on the PR.
func (d *differ) autoMerge(ctx context.Context, pr githubapi.Pull, blocks []comment.Component) (bool, error) {
	if pr.Merged {
		return true, nil
	}
	if pr.State != "open" || pr.HeadSHA != d.run.HeadSHA {
		d.log.Info("not merging: the PR was closed or got new commits since the diff", "state", pr.State)
		return false, nil
	}
	why, err := d.s.texts.RenderAutoMerge(comment.AutoMerge{Components: blocks})
	if err != nil {
		return false, err
	}
	if _, err := d.postOnce(ctx, "auto-merge", why); err != nil {
		return false, err
	}
	merged, err := d.api.merge(ctx, d.run.PR, d.run.HeadSHA)
	if err == nil {
		if merged {
			d.log.Info("merged the no-diff promotion PR")
		} else {
			d.log.Info("not merging: the PR got new commits since the diff")
		}
		return merged, nil
	}
	if !bus.IsPermanent(err) {
		return false, err
	}
	// Refused because it was merged meanwhile (by the promoter's
	// auto-merge, or a person): done.
	if now, perr := d.api.pull(ctx, d.run.PR); perr == nil && now.Merged {
		d.log.Info("the no-diff promotion PR was merged meanwhile")
		return true, nil
	}
	body := fmt.Sprintf("Failed to auto-merge this PR, whose Argo CD diff is empty:\n```\n%s\n```\n", err.Error())
	if _, cerr := d.postOnce(ctx, "argodiff-merge-failed", body); cerr != nil {
		return false, cerr
	}
	return false, nil
}

// noConnection comments, once per PR, that the repository asks for Argo
// CD diffs but this deployment has no Argo CD connection; the run is an
// error.
func (d *differ) noConnection(ctx context.Context) (outcome, error) {
	const tag = "<!-- telefonistka-argodiff-no-connection -->"
	existing, err := d.api.findComment(ctx, d.run.PR, tag)
	if err != nil {
		return outcome{}, err
	}
	if existing == nil {
		if ok, err := d.waitMinimized(ctx); err != nil || !ok {
			return outcome{}, err
		}
		body := "`argocd.commentDiffonPR` is set in `telefonistka.yaml`, but Telefonistka has no Argo CD connection, " +
			"so no Argo CD diff is shown. Set `ARGOCD_SERVER_ADDR` and `ARGOCD_TOKEN` for the argodiff service " +
			"(and `ARGOCD_PLAINTEXT`/`ARGOCD_INSECURE` as needed), or unset the `argocd.*` keys.\n" + tag + "\n"
		if _, err := d.postOnce(ctx, "argodiff-no-connection", body); err != nil {
			return outcome{}, err
		}
	}
	return outcome{state: events.CheckError, reason: "Argo CD diff: no Argo CD connection (ARGOCD_SERVER_ADDR, ARGOCD_TOKEN)"}, nil
}

func commentedEvent(run prRun, blocks []comment.Component, ids []int64, noDiff, merged bool) *events.ArgoDiffCommented {
	ev := &events.ArgoDiffCommented{HeadSHA: run.HeadSHA, CommentIDs: ids, NoDiff: noDiff && len(blocks) > 0, AutoMerged: merged}
	if ev.CommentIDs == nil {
		ev.CommentIDs = []int64{}
	}
	ev.Components = []events.ArgoDiffComponent{}
	for _, b := range blocks {
		ev.Components = append(ev.Components, events.ArgoDiffComponent{
			Path: b.Path, App: b.App, Temporary: b.Temporary, Result: b.Result, Objects: len(b.Objects) + b.Cut, Error: b.Error,
		})
	}
	return ev
}

func appRef(a *v1alpha1.Application) argocd.App {
	return argocd.App{Name: a.Name, Namespace: a.Namespace}
}
