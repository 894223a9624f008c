package discover

import (
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func app(name, sourcePath, annotation string) v1alpha1.Application {
	a := v1alpha1.Application{}
	a.Name = name
	a.Spec.Source = &v1alpha1.ApplicationSource{Path: sourcePath}
	if annotation != "" {
		a.Annotations = map[string]string{Annotation: annotation}
	}
	return a
}

func TestByAnnotation(t *testing.T) {
	apps := []v1alpha1.Application{
		app("z-root", "x", "/"),
		app("b-relative", "clusters/prod/nginx", "."),
		app("a-list", "other", " /clusters/staging/redis ; /clusters/staging/nginx/base "),
		app("c-escape", "clusters/prod", "../../../clusters/dev/nginx"),
	}
	tests := map[string]string{
		"clusters/prod/nginx":         "b-relative", // "." is the source path
		"clusters/staging/redis":      "a-list",
		"clusters/staging/nginx":      "z-root", // .../nginx/base is below, not an ancestor
		"clusters/staging/nginx/base": "a-list",
		"clusters/dev/nginx":          "z-root", // the entry escaping the repo is dropped
	}
	for path, want := range tests {
		if got := ByAnnotation(apps, path); got == nil || got.Name != want {
			t.Errorf("%s: got %v, want %s", path, got, want)
		}
	}
	if got := ByAnnotation(apps[1:3], "clusters/prodx/nginx"); got != nil {
		t.Errorf("a sibling with a common prefix must not match, got %s", got.Name)
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	for _, u := range []string{"https://github.com/acme/gitops", "HTTPS://GitHub.com/acme/gitops.git", "https://github.com/acme/gitops/"} {
		if !SameRepo(u, "https://github.com/acme/gitops") {
			t.Errorf("%s must be the same repository", u)
		}
	}
	if SameRepo("https://github.com/acme/GitOps", "https://github.com/acme/gitops") {
		t.Error("the path stays case-sensitive")
	}
}

func TestMatchAppSetAndTempApp(t *testing.T) {
	git := v1alpha1.ApplicationSet{}
	git.Name = "git"
	git.Spec.GoTemplate = true
	git.Spec.Generators = []v1alpha1.ApplicationSetGenerator{{Git: &v1alpha1.GitGenerator{
		RepoURL:     "https://github.com/acme/gitops.git",
		Directories: []v1alpha1.GitDirectoryGeneratorItem{{Path: "clusters/*/*"}, {Path: "clusters/*/skip", Exclude: true}},
	}}}
	git.Spec.Template.Name = "{{ .path.basenameNormalized }}-{{ index .path.segments 1 }}"
	git.Spec.Template.Spec.Source = &v1alpha1.ApplicationSource{Path: "{{ .path.path }}", TargetRevision: "HEAD"}
	git.Spec.Template.Spec.SyncPolicy = &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{}}
	plugin := v1alpha1.ApplicationSet{}
	plugin.Name = "plugin"
	plugin.Spec.Generators = []v1alpha1.ApplicationSetGenerator{{Plugin: &v1alpha1.PluginGenerator{
		Input: v1alpha1.PluginInput{Parameters: v1alpha1.PluginParameters{"path": apiextensionsv1.JSON{Raw: []byte(`"apps/*"`)}}},
	}}}
	sets := []v1alpha1.ApplicationSet{git, plugin}
	if got := MatchAppSet(sets, "https://github.com/acme/gitops", "clusters/prod/my_app"); got == nil || got.Name != "git" {
		t.Fatalf("git generator: %v", got)
	}
	if got := MatchAppSet(sets, "https://github.com/acme/gitops", "clusters/prod/skip"); got != nil {
		t.Fatalf("excluded directory matched %s", got.Name)
	}
	if got := MatchAppSet(sets, "https://github.com/other/repo", "apps/web"); got == nil || got.Name != "plugin" {
		t.Fatalf("plugin generator: %v", got)
	}
	tmp, err := TempApp(&git, "clusters/prod/my_app", "feature")
	if err != nil {
		t.Fatal(err)
	}
	if tmp.Name != "temp-my-app-prod" || tmp.Spec.Source.Path != "clusters/prod/my_app" ||
		tmp.Spec.Source.TargetRevision != "feature" || tmp.Spec.SyncPolicy.Automated != nil {
		t.Fatalf("temporary app %+v", tmp)
	}
	if git.Spec.Template.Spec.SyncPolicy.Automated == nil {
		t.Fatal("rendering must not change the ApplicationSet")
	}
}
