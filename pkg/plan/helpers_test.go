package plan

import (
	"reflect"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
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

func TestCarriedLeavesOutFullySkippedComponents(t *testing.T) {
	cfg := mustConfig(t, `
promotionPaths:
  - sourcePath: "staging/"
    promotionPrs:
      - targetPaths: [prod/us/]
`)
	blockUS := ComponentConfigFunc(func(path string) (*config.ComponentConfig, error) {
		if path == "staging/redis" {
			return config.LoadComponentConfig("staging/redis/telefonistka.yaml", []byte("promotionTargetBlockList: [\"^prod/us\"]\n"))
		}
		return nil, nil
	})
	p := Compute(Input{Config: cfg, ChangedFiles: []string{"staging/nginx/a", "staging/redis/b"}, Components: blockUS})
	e := p.Entries[0]
	if got := e.ComponentNames(); !reflect.DeepEqual(got, []string{"nginx", "redis"}) {
		t.Fatalf("entry components %q", got)
	}
	c := e.Carried()
	if got := c.ComponentNames(); !reflect.DeepEqual(got, []string{"nginx"}) {
		t.Errorf("carried components %q, want nginx only", got)
	}
	if len(c.Skipped) != 0 || len(c.Sync) != 1 || c.SkipSet() != nil {
		t.Errorf("carried entry: sync %v, skipped %v, skip set %v", c.Sync, c.Skipped, c.SkipSet())
	}
	if len(e.Components) != 2 {
		t.Error("Carried changed the entry")
	}
}
