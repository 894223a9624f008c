package plan

import (
	"reflect"
	"testing"
)

func TestAllSyncPairs(t *testing.T) {
	cfg := mustConfig(t, `
promotionPaths:
  - sourcePath: "dev/[^/]*/"
    promotionPrs:
      - targetPaths: [prod/eu/]
      - targetPaths: [prod/eu/, prod/us/]
`)
	p := Compute(Input{Config: cfg, ChangedFiles: []string{"dev/b/nginx/x", "dev/a/nginx/x", "dev/a/redis/y"}})
	var got []string
	for _, s := range p.AllSyncPairs() {
		got = append(got, s.Source()+" -> "+s.Target())
	}
	want := []string{"dev/a/nginx -> prod/eu/nginx", "dev/a/redis -> prod/eu/redis", "dev/a/nginx -> prod/us/nginx", "dev/a/redis -> prod/us/redis"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AllSyncPairs = %q, want %q", got, want)
	}
}

func TestChangedComponentsIgnoresLabels(t *testing.T) {
	cfg := mustConfig(t, `
promotionPaths:
  - sourcePath: "staging/"
    conditions: {prHasLabels: [hotfix]}
    componentPathExtraDepth: 1
    promotionPrs: [{targetPaths: [prod/]}]
  - sourcePath: "staging/"
    promotionPrs: [{targetPaths: [prod/]}]
  - sourcePath: "dev/"
    promotionPrs: [{targetPaths: [staging/]}]
`)
	got := ChangedComponents(cfg, []string{"staging/team/nginx/a", "staging/team/redis/b", "staging/x", "dev/web/a", "dev/web/b", "other/q/r", "../dev/x/y"})
	want := []string{"dev/web", "staging/team/nginx", "staging/team/redis"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChangedComponents = %q, want %q", got, want)
	}
}
