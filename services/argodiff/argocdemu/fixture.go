package argocdemu

import (
	"fmt"
	"os"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Fixture is the seed of the server, read from YAML (see README.md).
type Fixture struct {
	Settings        SettingsFixture           `json:"settings"`
	Projects        []v1alpha1.AppProject     `json:"projects"`
	Applications    []v1alpha1.Application    `json:"applications"`
	ApplicationSets []v1alpha1.ApplicationSet `json:"applicationSets"`
	// Resources are the live managed resources per application name. An
	// application without an entry is live exactly as its manifests at its
	// target revision (a synced application), when a Source is set.
	Resources map[string][]map[string]any `json:"resources"`
	// Manifests are the manifests per application name and revision; a
	// revision without an entry is rendered by the Source.
	Manifests map[string]map[string][]map[string]any `json:"manifests"`
}

// SettingsFixture are the server settings.
type SettingsFixture struct {
	// URL is the Argo CD UI address (links in comments).
	URL string `json:"url"`
	// AppLabelKey and TrackingMethod ("label", "annotation",
	// "annotation+label") decide how resources are tracked.
	AppLabelKey         string `json:"appLabelKey"`
	TrackingMethod      string `json:"trackingMethod"`
	ControllerNamespace string `json:"controllerNamespace"`
	// ResourceOverrides are keyed "group/Kind" ("apps/Deployment").
	ResourceOverrides map[string]v1alpha1.ResourceOverride `json:"resourceOverrides"`
}

// ParseFixture reads a fixture from YAML.
func ParseFixture(data []byte) (*Fixture, error) {
	var f Fixture
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("reading the Argo CD fixture: %w", err)
	}
	for i, a := range f.Applications {
		if a.Name == "" {
			return nil, fmt.Errorf("reading the Argo CD fixture: application %d has no metadata.name", i+1)
		}
	}
	return &f, nil
}

// LoadFixture reads a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the Argo CD fixture: %w", err)
	}
	return ParseFixture(data)
}

func toObjects(list []map[string]any) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(list))
	for _, m := range list {
		out = append(out, (&unstructured.Unstructured{Object: m}).DeepCopy())
	}
	return out
}
