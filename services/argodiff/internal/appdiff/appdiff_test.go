package appdiff

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
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

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func js(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// live makes the ManagedResources item of a live object.
func live(t *testing.T, u *unstructured.Unstructured) *v1alpha1.ResourceDiff {
	gvk := u.GroupVersionKind()
	return &v1alpha1.ResourceDiff{Group: gvk.Group, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName(), NormalizedLiveState: js(t, u)}
}

func deployment(replicas int, image string, tracking bool) string {
	ann := ""
	if tracking {
		ann = "\n  annotations:\n    argocd.argoproj.io/tracking-id: nginx:apps/Deployment:web/nginx"
	}
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: web` + ann + `
spec:
  replicas: ` + itoa(replicas) + `
  template:
    spec:
      containers:
        - name: nginx
          image: ` + image + `
`
}

func itoa(i int) string { return string(rune('0' + i)) }

var annotationTracking = Settings{AppLabelKey: "app.kubernetes.io/instance", TrackingMethod: "annotation"}

func testApp() *v1alpha1.Application {
	a := &v1alpha1.Application{}
	a.Name = "nginx"
	a.Spec.Destination.Namespace = "web"
	return a
}

func manifests(t *testing.T, ys ...string) []string {
	var out []string
	for _, y := range ys {
		out = append(out, js(t, obj(t, y)))
	}
	return out
}

func TestDiffModifiedAddedRemovedAndText(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: web\n  annotations:\n    argocd.argoproj.io/tracking-id: nginx:/ConfigMap:web/old\ndata:\n  a: b\n"
	svc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\nspec:\n  ports:\n    - port: 80\n"
	res := []*v1alpha1.ResourceDiff{live(t, obj(t, deployment(2, "nginx:1.25", true))), live(t, obj(t, cm))}
	objs, err := Diff(testApp(), res, manifests(t, deployment(3, "nginx:1.26", false), svc), annotationTracking)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	var text strings.Builder
	for _, o := range objs {
		titles = append(titles, o.Title())
		s, err := o.Text()
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(o.Title() + ":\n" + s + "\n")
	}
	if got := strings.Join(titles, " "); got != "web/ConfigMap/old web/Deployment/nginx web/Service/nginx" {
		t.Fatalf("objects %s", got)
	}
	if objs[0].Change != Removed || objs[1].Change != Modified || objs[2].Change != Added {
		t.Fatalf("changes %v %v %v", objs[0].Change, objs[1].Change, objs[2].Change)
	}
	checkGolden(t, "modified-added-removed.txt", text.String())
}

func TestNoDiffWhenOnlyTrackingIsMissingFromManifests(t *testing.T) {
	res := []*v1alpha1.ResourceDiff{live(t, obj(t, deployment(2, "nginx:1.25", true)))}
	objs, err := Diff(testApp(), res, manifests(t, deployment(2, "nginx:1.25", false)), annotationTracking)
	if err != nil || len(objs) != 0 {
		t.Fatalf("want no diff (tracking set as Argo CD sets it), got %v, %v", objs, err)
	}
	// With label tracking the annotation Argo CD did not write is a change.
	objs, err = Diff(testApp(), res, manifests(t, deployment(2, "nginx:1.25", false)), Settings{AppLabelKey: "app.kubernetes.io/instance", TrackingMethod: "label"})
	if err != nil || len(objs) != 1 {
		t.Fatalf("want the tracking difference with label tracking, got %v, %v", objs, err)
	}
}

func TestIgnoreDifferencesAndResourceOverrides(t *testing.T) {
	res := []*v1alpha1.ResourceDiff{live(t, obj(t, deployment(2, "nginx:1.25", true)))}
	target := manifests(t, deployment(5, "nginx:1.25", false))
	app := testApp()
	app.Spec.IgnoreDifferences = []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}}
	if objs, err := Diff(app, res, target, annotationTracking); err != nil || len(objs) != 0 {
		t.Fatalf("ignoreDifferences: want no diff, got %v, %v", objs, err)
	}
	s := annotationTracking
	s.Overrides = map[string]v1alpha1.ResourceOverride{"apps/Deployment": {IgnoreDifferences: v1alpha1.OverrideIgnoreDiff{JSONPointers: []string{"/spec/replicas"}}}}
	if objs, err := Diff(testApp(), res, target, s); err != nil || len(objs) != 0 {
		t.Fatalf("resource override: want no diff, got %v, %v", objs, err)
	}
	if objs, err := Diff(testApp(), res, target, annotationTracking); err != nil || len(objs) != 1 {
		t.Fatalf("without either: want the replicas change, got %v, %v", objs, err)
	}
}

func TestSecretsHooksAndIgnoredExtraneousAreLeftOut(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\ndata:\n  password: c2VjcmV0\n"
	secret2 := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: web\ndata:\n  password: b3RoZXI=\n"
	hook := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: web\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec:\n  template: {}\n"
	extraneous := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: web\n  annotations:\n    argocd.argoproj.io/compare-options: IgnoreExtraneous\n"
	res := []*v1alpha1.ResourceDiff{live(t, obj(t, secret)), live(t, obj(t, extraneous))}
	objs, err := Diff(testApp(), res, manifests(t, secret2, hook, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: new\n"), annotationTracking)
	if err != nil || len(objs) != 0 {
		t.Fatalf("want nothing, got %v, %v", objs, err)
	}
}
