package comment

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

const deploymentText = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx

@@ spec.replicas @@
! ± value change
- 2
+ 3
`

func app(path string) Component {
	return Component{
		Path: path, Result: ResultDiff, App: "nginx-staging", AppURL: "https://argocd.example.com/applications/nginx-staging",
		Health: "Healthy", Sync: "Synced", AutoSync: true,
		Objects: []Object{NewObject("web/Deployment/nginx", deploymentText, false)},
	}
}

func render(t *testing.T, c Comment) string {
	t.Helper()
	r, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestVariantsGolden(t *testing.T) {
	unhealthy := app("clusters/staging/nginx")
	unhealthy.Health, unhealthy.Sync, unhealthy.AutoSync = "Degraded", "OutOfSync", false
	temp := app("clusters/staging/new")
	temp.App, temp.AppURL, temp.Temporary, temp.AutoSync = "temp-new-staging", "https://argocd.example.com/applications/temp-new-staging", true, false
	noDiff := app("clusters/staging/nginx")
	noDiff.Result, noDiff.Objects = ResultNoDiff, nil
	synced := app("clusters/staging/nginx")
	synced.Result, synced.Objects = ResultSynced, nil
	redacted := app("clusters/staging/secretive")
	redacted.Objects = []Object{NewObject("web/ConfigMap/settings", "whatever", true)}
	failed := NewError(app("clusters/staging/nginx"), errors.New("rpc error: code = Unavailable desc = ```boom```"))
	keptTemp := NewError(temp, errors.New("rendering failed"))
	keptTemp.KeptTemp = true
	unknown := NewError(Component{Path: "clusters/staging/x"}, errors.New("listing Argo CD applications: timeout"))
	noApp := Component{Path: "clusters/staging/orphan", Result: ResultNoApp}
	noAppHint := noApp
	noAppHint.TempAppsEnabled = true
	cases := map[string]Comment{
		"diff.md":               {Components: []Component{app("clusters/staging/nginx")}},
		"alerts.md":             {Components: []Component{unhealthy}},
		"temporary-app.md":      {Components: []Component{temp}},
		"no-diff.md":            {Components: []Component{noDiff}},
		"synced-from-branch.md": {Components: []Component{synced}},
		"redacted.md":           {Components: []Component{redacted}},
		"error.md":              {Components: []Component{failed}},
		"error-kept-temp.md":    {Components: []Component{keptTemp}},
		"error-no-app.md":       {Components: []Component{unknown}},
		"no-app.md":             {Components: []Component{noApp, noAppHint}},
		"concise.md":            {Components: []Component{app("clusters/staging/nginx")}, Concise: true},
		"checkbox.md":           {Components: []Component{app("clusters/staging/nginx"), noDiff}, Checkbox: true, Branch: "feature/more-replicas"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, render(t, c)) })
	}
}

// bigComponent has n objects of about 1 KB each.
func bigComponent(path string, n int) Component {
	c := app(path)
	c.Objects = nil
	for i := range n {
		text := deploymentText + strings.Repeat("# padding line of the object text\n", 28)
		c.Objects = append(c.Objects, NewObject(fmt.Sprintf("web/Deployment/app-%03d", i), text, false))
	}
	return c
}

// The comment left on a no-diff promotion PR that argodiff merges says
// why, naming each component and its application.
func TestAutoMergeGolden(t *testing.T) {
	r, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	eu := app("clusters/prod/eu-1/redis")
	eu.App, eu.AppURL, eu.Result, eu.Objects = "redis-prod-eu-1", "https://argocd.example.com/applications/redis-prod-eu-1", ResultNoDiff, nil
	us := eu
	us.Path, us.App, us.AppURL = "clusters/prod/us-1/redis", "redis-prod-us-1", "https://argocd.example.com/applications/redis-prod-us-1"
	body, err := r.RenderAutoMerge(AutoMerge{Components: []Component{eu, us}})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "auto-merge.md", body)
}

func TestBodiesOneCommentWhenItFits(t *testing.T) {
	r, _ := New("")
	bodies, err := r.Bodies([]Component{app("a/nginx"), app("b/nginx")}, true, "br", MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || strings.Count(bodies[0], "@ `") != 2 || !strings.Contains(bodies[0], "telefonistka-argocd-branch-sync") {
		t.Fatalf("want one comment with both components and the checkbox, got %d: %q", len(bodies), bodies)
	}
}

func TestBodiesSplitConciseAndCut(t *testing.T) {
	r, _ := New("")
	// a: fits alone in full; b: fits only concise; c: even the concise list
	// of titles is too long and is cut.
	a, b, c := bigComponent("a/app", 3), bigComponent("b/app", 80), bigComponent("c/app", 4000)
	bodies, err := r.Bodies([]Component{a, b, c}, true, "br", MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 3 {
		t.Fatalf("want 3 comments, got %d", len(bodies))
	}
	for i, body := range bodies {
		if len(body) > MaxBytes {
			t.Errorf("comment %d has %d bytes", i+1, len(body))
		}
		if !strings.Contains(body, fmt.Sprintf("Component %d/3: ", i+1)) {
			t.Errorf("comment %d lacks its split header", i+1)
		}
		if hasBox := strings.Contains(body, "telefonistka-argocd-branch-sync"); hasBox != (i == 2) {
			t.Errorf("comment %d: checkbox %v, want only on the last", i+1, hasBox)
		}
	}
	if strings.Contains(bodies[0], "concise view") || !strings.Contains(bodies[0], "# padding line") {
		t.Error("the first component fits in full and must not be concise")
	}
	if !strings.Contains(bodies[1], "concise view") || strings.Contains(bodies[1], "# padding line") || strings.Contains(bodies[1], "more objects") {
		t.Error("the second component must be concise and complete")
	}
	if !strings.Contains(bodies[2], "concise view") || !strings.Contains(bodies[2], " more objects") {
		t.Error("the third component must be cut")
	}
	// The cut keeps as many titles as fit: one more would not.
	kept := strings.Count(bodies[2], "web/Deployment/app-")
	var n int
	if _, err := fmt.Sscanf(bodies[2][strings.LastIndex(bodies[2], "… and ")+len("… and "):], "%d", &n); err != nil || kept+n != 4000 {
		t.Fatalf("kept %d and cut %d (%v), want 4000 in all", kept, n, err)
	}
}

func TestOverrideMustDefineTemplate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "argocd-diff-pr-comment.gotmpl"), []byte(`{{ define "other" }}x{{ end }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); err == nil {
		t.Fatal("an override without argoCdDiff must be refused")
	}
	if err := os.WriteFile(filepath.Join(dir, "argocd-diff-pr-comment.gotmpl"), []byte(`{{ define "argoCdDiff" }}{{ len .Components }} components{{ end }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.Render(Comment{Components: []Component{app("a")}})
	if err != nil || body != "<!-- telefonistka_tag -->\n1 components" {
		t.Fatalf("override rendered %q, %v", body, err)
	}
}
