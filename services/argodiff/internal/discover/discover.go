// Package discover finds the Argo CD application of a component (SPEC
// §7.2): by the manifest-generate-paths annotation, by the SHA1 label, or
// from an ApplicationSet that would generate one. It is pure logic over the
// objects the API returned.
package discover

import (
	"crypto/sha1" //nolint:gosec // the label value is a name, not a security measure
	"encoding/hex"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// Annotation lists, separated by ";", the repository paths an application
// is generated from.
const Annotation = "argocd.argoproj.io/manifest-generate-paths"

// ComponentLabel is the label whose value is the hex SHA1 of the component
// path (argocd.useSHALabelForAppDiscovery).
const ComponentLabel = "telefonistka.io/component-path-sha1"

// ComponentSHA1 is the ComponentLabel value of a component path.
func ComponentSHA1(componentPath string) string {
	sum := sha1.Sum([]byte(componentPath)) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// LabelSelector selects the applications of a component path by label.
func LabelSelector(componentPath string) string {
	return ComponentLabel + "=" + ComponentSHA1(componentPath)
}

// ByAnnotation returns the first application, in name order, one of whose
// manifest-generate-paths entries is the component path or one of its
// ancestors; nil when none is.
func ByAnnotation(apps []v1alpha1.Application, componentPath string) *v1alpha1.Application {
	sorted := make([]*v1alpha1.Application, 0, len(apps))
	for i := range apps {
		sorted = append(sorted, &apps[i])
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, a := range sorted {
		for _, p := range GeneratePaths(a) {
			if covers(p, componentPath) {
				return a
			}
		}
	}
	return nil
}

// GeneratePaths returns the repository paths of an application's
// manifest-generate-paths annotation: entries split on ";" and trimmed, an
// entry starting with "." taken relative to spec.source.path, a leading "/"
// dropped. Entries that would leave the repository ("..") are dropped;
// the repository root is "".
func GeneratePaths(a *v1alpha1.Application) []string {
	raw, ok := a.Annotations[Annotation]
	if !ok {
		return nil
	}
	source := ""
	if s := a.Spec.GetSourcePtrByIndex(0); s != nil {
		source = s.Path
	}
	var out []string
	for _, e := range strings.Split(raw, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.HasPrefix(e, ".") {
			e = path.Join(strings.TrimPrefix(source, "/"), e)
		}
		e = strings.TrimPrefix(e, "/")
		if e == "" {
			out = append(out, "")
			continue
		}
		if strings.HasPrefix(e, "/") || escapes(e) {
			continue
		}
		e = path.Clean(e)
		if e == "." {
			e = ""
		}
		out = append(out, e)
	}
	return out
}

// escapes reports whether a relative path climbs above its root.
func escapes(p string) bool {
	depth := 0
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// covers reports whether dir is p or one of its ancestors ("" is the root).
func covers(dir, p string) bool {
	return dir == "" || dir == p || strings.HasPrefix(p, dir+"/")
}

// NormalizeRepoURL is the form repository URLs are compared in: scheme and
// host lower-cased, a trailing "/" and ".git" removed.
func NormalizeRepoURL(raw string) string {
	s := strings.TrimSpace(raw)
	s = strings.TrimSuffix(s, "/")
	s = strings.TrimSuffix(s, ".git")
	s = strings.TrimSuffix(s, "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

// SameRepo reports whether two repository URLs name the same repository.
func SameRepo(a, b string) bool { return NormalizeRepoURL(a) == NormalizeRepoURL(b) }
