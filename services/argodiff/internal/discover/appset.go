package discover

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/argoproj/argo-cd/v2/applicationset/utils"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TempPrefix starts the name of a temporary application.
const TempPrefix = "temp-"

// MatchAppSet returns the first ApplicationSet that would generate an
// application for the component: one with a Git generator on repoURL one
// of whose directories[].path globs matches the component path (and no
// exclude entry does), or a Plugin generator whose input.parameters.path
// glob matches it. Only top-level generators are considered.
func MatchAppSet(sets []v1alpha1.ApplicationSet, repoURL, componentPath string) *v1alpha1.ApplicationSet {
	for i := range sets {
		for _, g := range sets[i].Spec.Generators {
			if g.Git != nil && gitMatches(g.Git, repoURL, componentPath) {
				return &sets[i]
			}
			if g.Plugin != nil && pluginMatches(g.Plugin, componentPath) {
				return &sets[i]
			}
		}
	}
	return nil
}

func gitMatches(g *v1alpha1.GitGenerator, repoURL, componentPath string) bool {
	if !SameRepo(g.RepoURL, repoURL) {
		return false
	}
	matched := false
	for _, d := range g.Directories {
		if ok, _ := path.Match(d.Path, componentPath); ok {
			if d.Exclude {
				return false
			}
			matched = true
		}
	}
	return matched
}

func pluginMatches(g *v1alpha1.PluginGenerator, componentPath string) bool {
	raw, ok := g.Input.Parameters["path"]
	if !ok {
		return false
	}
	var pattern string
	if err := json.Unmarshal(raw.Raw, &pattern); err != nil {
		return false
	}
	ok, _ = path.Match(pattern, componentPath)
	return ok
}

// DirectoryParams are the parameters the Git directory generator gives a
// directory, nested for Go templates (path.path, path.basename,
// path.basenameNormalized, path.filename, path.filenameNormalized,
// path.segments) and flat for the default templates.
func DirectoryParams(dir string, goTemplate bool) map[string]any {
	base := path.Base(dir)
	segments := strings.Split(dir, "/")
	if goTemplate {
		return map[string]any{"path": map[string]any{
			"path":               dir,
			"basename":           base,
			"basenameNormalized": utils.SanitizeName(base),
			"filename":           base,
			"filenameNormalized": utils.SanitizeName(base),
			"segments":           segments,
		}}
	}
	flat := map[string]any{
		"path":                    dir,
		"path.path":               dir,
		"path.basename":           base,
		"path.basenameNormalized": utils.SanitizeName(base),
		"path.filename":           base,
		"path.filenameNormalized": utils.SanitizeName(base),
	}
	for i, s := range segments {
		flat[fmt.Sprintf("path[%d]", i)] = s
	}
	return flat
}

// TempApp renders the application set's template for the component with
// argo-cd's own template renderer, then makes it a temporary application:
// named TempPrefix + the rendered name, without automated sync, and
// targeting revision (the PR head branch).
func TempApp(set *v1alpha1.ApplicationSet, componentPath, revision string) (*v1alpha1.Application, error) {
	t := set.Spec.Template
	tmpl := &v1alpha1.Application{
		TypeMeta: metav1.TypeMeta{Kind: "Application", APIVersion: "argoproj.io/v1alpha1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: t.Name, Namespace: t.Namespace, Labels: t.Labels, Annotations: t.Annotations,
		},
		Spec: *t.Spec.DeepCopy(),
	}
	var r utils.Render
	app, err := r.RenderTemplateParams(tmpl, nil, DirectoryParams(componentPath, set.Spec.GoTemplate), set.Spec.GoTemplate, set.Spec.GoTemplateOptions)
	if err != nil {
		return nil, fmt.Errorf("rendering the template of ApplicationSet %s for %s: %w", set.Name, componentPath, err)
	}
	if app.Name == "" {
		return nil, fmt.Errorf("ApplicationSet %s renders no application name for %s", set.Name, componentPath)
	}
	app.Name = TempPrefix + app.Name
	if app.Namespace == "" {
		app.Namespace = set.Namespace
	}
	if app.Spec.SyncPolicy != nil {
		app.Spec.SyncPolicy.Automated = nil
	}
	if app.Spec.Source != nil {
		app.Spec.Source.TargetRevision = revision
	}
	for i := range app.Spec.Sources {
		app.Spec.Sources[i].TargetRevision = revision
	}
	return app, nil
}
