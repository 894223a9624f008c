package argodiff

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
)

// BranchSyncMarker is in the deploy-from-branch checkbox line.
const BranchSyncMarker = "<!-- telefonistka-argocd-branch-sync -->"

// checkboxLine matches the checkbox line: line start, optional spaces,
// "-", "[" + one character + "]", a space, then the marker.
var checkboxLine = regexp.MustCompile(`(?m)^[ \t]*-[ \t]*\[(.)\] ` + regexp.QuoteMeta(BranchSyncMarker))

// checkboxState returns whether body has the checkbox, and whether it is
// ticked (any character but a space).
func checkboxState(body string) (present, ticked bool) {
	m := checkboxLine.FindStringSubmatch(body)
	if m == nil {
		return false, false
	}
	return true, m[1] != " "
}

// newlyTicked reports whether an edit ticked the checkbox.
func newlyTicked(from, to string) bool {
	_, before := checkboxState(from)
	present, after := checkboxState(to)
	return present && after && !before
}

// syncRequest is a deploy-from-branch (ticked checkbox) or a reset (PR
// closed) for one PR.
type syncRequest struct {
	Repo          events.Repo
	PR            int
	Branch        string // the PR head branch
	HeadSHA       string
	Body          string
	DefaultBranch string
	HTMLURL       string
}

// syncTarget is one application to patch.
type syncTarget struct {
	path string
	app  appRefRev
}

type appRefRev struct {
	name, namespace, revision string
}

// branchApps finds the existing applications of the PR's components that
// allowSyncfromBranchPathRegex matches.
func (s *Service) branchApps(ctx context.Context, req syncRequest) ([]syncTarget, *regexp.Regexp, error) {
	api := s.repoAPI(req.Repo)
	base, err := api.branchHead(ctx, req.DefaultBranch)
	if err != nil {
		return nil, nil, err
	}
	data, _, err := api.file(ctx, base, config.RepoFileName)
	if err != nil {
		return nil, nil, err
	}
	cfg, _ := config.ParseRepoConfig(config.RepoFileName, data)
	if cfg == nil || cfg.ArgoCD.AllowSyncFromBranchPathRegex == nil || s.argo == nil {
		return nil, nil, nil
	}
	re := cfg.ArgoCD.AllowSyncFromBranchPathRegex
	paths, err := prComponents(ctx, api, req.PR, req.Body, cfg)
	if err != nil {
		return nil, nil, err
	}
	f := newFinder(s.argo, req.HTMLURL, cfg.ArgoCD)
	var out []syncTarget
	for _, p := range paths {
		if !re.MatchString(p) {
			continue
		}
		app, err := f.app(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		if app == nil {
			continue
		}
		out = append(out, syncTarget{path: p, app: appRefRev{name: app.Name, namespace: app.Namespace, revision: app.Spec.GetSource().TargetRevision}})
	}
	return out, re, nil
}

func targetRevisionPatch(rev string) string {
	b, _ := json.Marshal(map[string]any{"spec": map[string]any{"source": map[string]any{"targetRevision": rev}}})
	return string(b)
}

// deployFromBranch points the applications of the PR's matching
// components at the PR branch. An application already there is not
// patched again (a redelivery patches nothing twice).
func (s *Service) deployFromBranch(ctx context.Context, log *slog.Logger, req syncRequest) error {
	targets, _, err := s.branchApps(ctx, req)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.app.revision == req.Branch {
			continue
		}
		if _, err := s.argo.MergePatchApp(ctx, refOf(t.app), targetRevisionPatch(req.Branch)); err != nil {
			return fmt.Errorf("deploying %s from branch %s: %w", t.path, req.Branch, err)
		}
		log.Info("application now deploys the PR branch", "app", t.app.name, "component", t.path, "branch", req.Branch)
	}
	return nil
}

// resetToHEAD points back at HEAD every application of the PR's matching
// components that deploys the PR branch. It runs on every close, merged or
// not; a redelivery (after a crash half-way) resets what is left.
func (s *Service) resetToHEAD(ctx context.Context, log *slog.Logger, req syncRequest) error {
	targets, _, err := s.branchApps(ctx, req)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.app.revision != req.Branch {
			continue
		}
		if _, err := s.argo.MergePatchApp(ctx, refOf(t.app), targetRevisionPatch("HEAD")); err != nil {
			return fmt.Errorf("resetting %s to HEAD: %w", t.path, err)
		}
		log.Info("application reset to HEAD", "app", t.app.name, "component", t.path)
	}
	return nil
}

func refOf(a appRefRev) argocd.App { return argocd.App{Name: a.name, Namespace: a.namespace} }
