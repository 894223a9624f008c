// Package appdiff compares an Argo CD application's live resources with the
// manifests rendered for a revision, using Argo CD's own diff code
// (argo-cd's util/argo/diff over gitops-engine): the application's
// ignoreDifferences, the resource overrides of the Argo CD settings and the
// tracking method are honoured as Argo CD itself does. Hooks, resources
// marked IgnoreExtraneous that only exist live, and core Secrets are left
// out; Secrets are never returned, not even by name.
package appdiff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/common"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v2/util/argo"
	argodiff "github.com/argoproj/argo-cd/v2/util/argo/diff"
	"github.com/argoproj/argo-cd/v2/util/argo/normalizers"
	"github.com/argoproj/gitops-engine/pkg/sync/hook"
	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Settings are the parts of the Argo CD settings the diff depends on.
type Settings struct {
	AppLabelKey         string
	TrackingMethod      string
	InstallationID      string
	ControllerNamespace string
	// Overrides are the resource overrides, keyed "group/Kind".
	Overrides map[string]v1alpha1.ResourceOverride
}

// Change is how an object differs.
type Change int

// The changes an object can have.
const (
	Modified Change = iota
	Added
	Removed
)

// Object is one object that differs. Live and Target are the normalised
// live state and the state Argo CD predicts after a sync; one of them is
// nil for an added or removed object.
type Object struct {
	Key          kube.ResourceKey
	Change       Change
	Live, Target *unstructured.Unstructured
}

// Title is the object's "<namespace>/<kind>/<name>" line.
func (o Object) Title() string { return o.Key.Namespace + "/" + o.Key.Kind + "/" + o.Key.Name }

// Diff returns the objects of app whose live state (resources, from the
// ManagedResources call) differs from the manifests (JSON or YAML documents
// from the GetManifests call), sorted by Title.
func Diff(app *v1alpha1.Application, resources []*v1alpha1.ResourceDiff, manifests []string, s Settings) ([]Object, error) {
	targets, err := parseManifests(manifests)
	if err != nil {
		return nil, err
	}
	pairs := map[kube.ResourceKey]*pair{}
	var order []kube.ResourceKey
	add := func(k kube.ResourceKey) *pair {
		p, ok := pairs[k]
		if !ok {
			p = &pair{}
			pairs[k] = p
			order = append(order, k)
		}
		return p
	}
	liveByName := map[string]kube.ResourceKey{} // group/kind/name -> key, to place targets without a namespace
	for _, r := range resources {
		k := kube.NewResourceKey(r.Group, r.Kind, r.Namespace, r.Name)
		if isSecret(k) {
			continue
		}
		live, err := liveObject(r)
		if err != nil {
			return nil, err
		}
		if live == nil {
			continue // only in git: the target side adds it
		}
		add(k).live = live
		liveByName[r.Group+"/"+r.Kind+"/"+r.Name] = k
	}
	destNS := app.Spec.Destination.Namespace
	tracking := argo.NewResourceTracking()
	instance := app.InstanceName(s.ControllerNamespace)
	for _, t := range targets {
		k := kube.GetResourceKey(t)
		if k.Namespace == "" {
			if lk, ok := liveByName[k.Group+"/"+k.Kind+"/"+k.Name]; ok {
				k.Namespace = lk.Namespace
			} else if !clusterScoped(k) {
				k.Namespace = destNS
			}
		}
		if isSecret(k) {
			continue
		}
		if !kube.IsCRD(t) && s.AppLabelKey != "" {
			if err := tracking.SetAppInstance(t, s.AppLabelKey, instance, destNS, v1alpha1.TrackingMethod(s.TrackingMethod), s.InstallationID); err != nil {
				return nil, fmt.Errorf("setting the tracking of %s: %w", k, err)
			}
		}
		add(k).target = t
	}
	cfg, err := argodiff.NewDiffConfigBuilder().
		WithDiffSettings(app.Spec.IgnoreDifferences, s.Overrides, false, normalizers.IgnoreNormalizerOpts{}).
		WithTracking(s.AppLabelKey, s.TrackingMethod).
		WithNoCache().
		Build()
	if err != nil {
		return nil, fmt.Errorf("building the diff configuration of %s: %w", app.Name, err)
	}
	var out []Object
	for _, k := range order {
		p := pairs[k]
		if skip(p) {
			continue
		}
		o, changed, err := compare(k, p, cfg)
		if err != nil {
			return nil, err
		}
		if changed {
			out = append(out, o)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Title() < out[j].Title() })
	return out, nil
}

type pair struct{ live, target *unstructured.Unstructured }

func compare(k kube.ResourceKey, p *pair, cfg argodiff.DiffConfig) (Object, bool, error) {
	res, err := argodiff.StateDiff(p.live, p.target, cfg)
	if err != nil {
		return Object{}, false, fmt.Errorf("comparing %s: %w", k, err)
	}
	o := Object{Key: k}
	switch {
	case p.live == nil:
		o.Change = Added
		o.Target, err = decode(res.PredictedLive, p.target)
	case p.target == nil:
		o.Change = Removed
		o.Live, err = decode(res.NormalizedLive, p.live)
	default:
		if !res.Modified {
			return o, false, nil
		}
		o.Change = Modified
		if o.Live, err = decode(res.NormalizedLive, p.live); err == nil {
			o.Target, err = decode(res.PredictedLive, p.target)
		}
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("reading the diff of %s: %w", k, err)
	}
	return o, true, nil
}

// decode reads a diff side, falling back to the object it came from.
func decode(data []byte, fallback *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if len(data) == 0 || string(data) == "null" {
		return fallback, nil
	}
	var u unstructured.Unstructured
	if err := json.Unmarshal(data, &u.Object); err != nil {
		return nil, err
	}
	return &u, nil
}

// skip drops hooks, and objects only live that ask to be ignored as
// extraneous.
func skip(p *pair) bool {
	if (p.target != nil && hook.IsHook(p.target)) || (p.live != nil && hook.IsHook(p.live)) {
		return true
	}
	if p.target == nil && p.live != nil && hasOption(p.live, common.AnnotationCompareOptions, "IgnoreExtraneous") {
		return true
	}
	return false
}

func hasOption(u *unstructured.Unstructured, annotation, option string) bool {
	for _, o := range strings.Split(u.GetAnnotations()[annotation], ",") {
		if strings.TrimSpace(o) == option {
			return true
		}
	}
	return false
}

func isSecret(k kube.ResourceKey) bool { return k.Group == "" && k.Kind == kube.SecretKind }

func liveObject(r *v1alpha1.ResourceDiff) (*unstructured.Unstructured, error) {
	raw := r.NormalizedLiveState
	if raw == "" || raw == "null" {
		raw = r.LiveState
	}
	if raw == "" || raw == "null" {
		return nil, nil
	}
	u, err := v1alpha1.UnmarshalToUnstructured(raw)
	if err != nil {
		return nil, fmt.Errorf("reading the live state of %s/%s/%s: %w", r.Namespace, r.Kind, r.Name, err)
	}
	return u, nil
}

func parseManifests(manifests []string) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(manifests))
	for i, m := range manifests {
		u, err := v1alpha1.UnmarshalToUnstructured(m)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %d: %w", i+1, err)
		}
		if u != nil {
			out = append(out, u)
		}
	}
	return out, nil
}

// clusterScoped lists the common kinds without a namespace, for targets
// that name none and have no live counterpart.
func clusterScoped(k kube.ResourceKey) bool {
	switch k.Group + "/" + k.Kind {
	case "/Namespace", "/Node", "/PersistentVolume",
		"rbac.authorization.k8s.io/ClusterRole", "rbac.authorization.k8s.io/ClusterRoleBinding",
		"apiextensions.k8s.io/CustomResourceDefinition", "storage.k8s.io/StorageClass",
		"admissionregistration.k8s.io/MutatingWebhookConfiguration",
		"admissionregistration.k8s.io/ValidatingWebhookConfiguration",
		"scheduling.k8s.io/PriorityClass", "networking.k8s.io/IngressClass":
		return true
	}
	return false
}

// OverridesOf converts the settings' override map.
func OverridesOf(m map[string]*v1alpha1.ResourceOverride) map[string]v1alpha1.ResourceOverride {
	out := make(map[string]v1alpha1.ResourceOverride, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}
