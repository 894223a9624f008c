package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

const (
	chartDir = "helm/telefonistka"
	// helmVersion is the helm CI installs (.ci/run, make test-deploy).
	helmVersion = "v3.21.4"
)

// chartCases are the values files CI renders the chart with.
var chartCases = []struct {
	name   string
	values string // relative to the chart; "" means the defaults
}{
	{"default", ""},
	{"platform", "ci/platform-values.yaml"},
	{"gateway", "ci/gateway-values.yaml"},
}

// helmBinary returns helm's path. Without helm the chart tests are skipped,
// unless TELEFONISTKA_REQUIRE_HELM is set (make test-deploy sets it).
func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("helm")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		p = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "helm")
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("TELEFONISTKA_REQUIRE_HELM") != "" {
				t.Fatalf("helm is not installed: go install helm.sh/helm/v3/cmd/helm@%s", helmVersion)
			}
			t.Skipf("helm is not installed (go install helm.sh/helm/v3/cmd/helm@%s, or make test-deploy)", helmVersion)
		}
	}
	return p
}

// helm runs helm in this module's directory and returns its stdout.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// render runs helm template for one release and values file.
func render(t *testing.T, release, values string, extra ...string) string {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", "gitops"}
	if values != "" {
		args = append(args, "-f", filepath.Join(chartDir, values))
	}
	out, err := helm(t, append(args, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// manifests is a rendered release decoded into Kubernetes API types.
type manifests struct {
	all             []runtime.Object
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	pdbs            []*policyv1.PodDisruptionBudget
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	networkPolicies []*networkingv1.NetworkPolicy
	ingresses       []*networkingv1.Ingress
	configMaps      []*corev1.ConfigMap
	serviceAccounts []*corev1.ServiceAccount
	serviceMonitors []*monitoringv1.ServiceMonitor
	httpRoutes      []*gatewayv1.HTTPRoute
}

// strictDecoder decodes YAML or JSON into the registered types and fails on
// unknown or duplicated fields.
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, monitoringv1.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decode decodes every document of a rendered release strictly.
func decode(t *testing.T, rendered string) *manifests {
	t.Helper()
	m := &manifests{}
	for _, doc := range docSeparator.Split(rendered, -1) {
		source := ""
		if first, _, _ := strings.Cut(strings.TrimSpace(doc), "\n"); strings.HasPrefix(first, "# Source: ") {
			source = strings.TrimPrefix(first, "# Source: ")
		}
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		obj, gvk, err := strictDecoder.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", source, err, doc)
		}
		m.all = append(m.all, obj)
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *corev1.Service:
			m.services = append(m.services, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpas = append(m.hpas, o)
		case *networkingv1.NetworkPolicy:
			m.networkPolicies = append(m.networkPolicies, o)
		case *networkingv1.Ingress:
			m.ingresses = append(m.ingresses, o)
		case *corev1.ConfigMap:
			m.configMaps = append(m.configMaps, o)
		case *corev1.ServiceAccount:
			m.serviceAccounts = append(m.serviceAccounts, o)
		case *monitoringv1.ServiceMonitor:
			m.serviceMonitors = append(m.serviceMonitors, o)
		case *gatewayv1.HTTPRoute:
			m.httpRoutes = append(m.httpRoutes, o)
		default:
			t.Fatalf("%s: unexpected kind %s", source, gvk)
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestChartRendersAndDecodesStrictly renders the chart with each values file
// CI uses, decodes every manifest strictly into the Kubernetes API types
// (ServiceMonitor and HTTPRoute into the Prometheus Operator's and the
// Gateway API's), and checks what the manifests must do.
func TestChartRendersAndDecodesStrictly(t *testing.T) {
	total := 0
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			values := loadValues(t, c.values)
			m := decode(t, render(t, "telefonistka", c.values))
			total += len(m.all)
			t.Logf("%d manifests", len(m.all))
			checkRelease(t, m, values)
		})
	}
	t.Logf("%d manifests rendered and decoded", total)
}

// values is the part of the chart's values the checks compare with.
type values struct {
	Services map[string]struct {
		Enabled bool `json:"enabled"`
	} `json:"services"`
	NATS struct {
		StreamReplicas int    `json:"streamReplicas"`
		CredsSecret    string `json:"credsSecret"`
	} `json:"nats"`
	GitHub struct {
		Auth     string `json:"auth"`
		Approver struct {
			Enabled bool `json:"enabled"`
		} `json:"approver"`
	} `json:"github"`
	Templates struct {
		Files map[string]string `json:"files"`
	} `json:"templates"`
	ArgoCD struct {
		ServerAddr  string `json:"serverAddr"`
		TokenSecret string `json:"tokenSecret"`
		TokenKey    string `json:"tokenKey"`
	} `json:"argocd"`
	NetworkPolicy struct {
		Egress struct {
			Enabled     bool  `json:"enabled"`
			ArgoCDPorts []int `json:"argocdPorts"`
		} `json:"egress"`
	} `json:"networkPolicy"`
}

// loadValues returns the chart's values merged with a values file, as helm
// computes them.
func loadValues(t *testing.T, file string) values {
	t.Helper()
	args := []string{"show", "values", chartDir}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var v values
	mustUnmarshalYAML(t, out, &v)
	if file != "" {
		data, err := os.ReadFile(filepath.Join(chartDir, file))
		if err != nil {
			t.Fatal(err)
		}
		var over values
		mustUnmarshalYAML(t, string(data), &over)
		for name, s := range over.Services {
			v.Services[name] = s
		}
		if over.NATS.StreamReplicas != 0 {
			v.NATS.StreamReplicas = over.NATS.StreamReplicas
		}
		v.NATS.CredsSecret = over.NATS.CredsSecret
		if over.GitHub.Auth != "" {
			v.GitHub.Auth = over.GitHub.Auth
		}
		if over.ArgoCD.ServerAddr != "" {
			v.ArgoCD.ServerAddr = over.ArgoCD.ServerAddr
		}
		if over.ArgoCD.TokenSecret != "" {
			v.ArgoCD.TokenSecret = over.ArgoCD.TokenSecret
		}
		if over.ArgoCD.TokenKey != "" {
			v.ArgoCD.TokenKey = over.ArgoCD.TokenKey
		}
		if over.NetworkPolicy.Egress.ArgoCDPorts != nil {
			v.NetworkPolicy.Egress.ArgoCDPorts = over.NetworkPolicy.Egress.ArgoCDPorts
		}
		v.NetworkPolicy.Egress.Enabled = over.NetworkPolicy.Egress.Enabled
		v.GitHub.Approver = over.GitHub.Approver
		v.Templates = over.Templates
	}
	return v
}

// checkRelease checks one rendered release against its values.
func checkRelease(t *testing.T, m *manifests, v values) {
	t.Helper()
	built := serviceNames(t)
	imageUID := imageUser(t)

	// One Deployment per enabled service, none for disabled or unbuilt ones.
	var want, got []string
	for name, s := range v.Services {
		if !slices.Contains(built, name) {
			t.Errorf("values configure service %q, which the binary does not have", name)
		}
		if s.Enabled {
			want = append(want, name)
		}
	}
	for _, d := range m.deployments {
		got = append(got, d.Labels["app.kubernetes.io/component"])
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("Deployments for %q, want the enabled services %q", got, want)
	}
	for _, d := range m.deployments {
		checkDeployment(t, d, v, built, imageUID)
	}
	checkArgoCDEgress(t, m, v)
	checkSelectors(t, m)
	checkTemplateFiles(t, v.Templates.Files, m)
}

// checkDeployment checks one service's Deployment.
func checkDeployment(t *testing.T, d *appsv1.Deployment, v values, built []string, uid int64) {
	t.Helper()
	name := d.Labels["app.kubernetes.io/component"]
	sel := d.Spec.Selector.MatchLabels
	for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"} {
		if sel[l] == "" {
			t.Errorf("%s: the selector has no %s label (two releases in one namespace would select each other's pods)", d.Name, l)
		}
	}
	if !labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: the selector does not select its own pods", d.Name)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", d.Name, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) != 2 || c.Args[0] != "serve" || c.Args[1] != name || !slices.Contains(built, name) {
		t.Errorf("%s: args %q, want [serve %s]", d.Name, c.Args, name)
	}

	// Non-root, read-only root filesystem, nothing to escalate.
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != uid {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot and the image's user %d", d.Name, psc, uid)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: container securityContext %+v: want a read-only root filesystem, no privilege escalation, all capabilities dropped", d.Name, sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token, but the services never call the Kubernetes API", d.Name)
	}
	if c.Resources.Requests.Memory().IsZero() && !c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: a memory limit without a request", d.Name)
	}

	// The port, and the probes on it.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s: %s is set twice", d.Name, e.Name)
		}
		env[e.Name] = e
		if !knownEnv(t, e.Name) {
			t.Errorf("%s: %s: no code reads this variable", d.Name, e.Name)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || strconv.Itoa(int(c.Ports[0].ContainerPort)) != env["PORT"].Value {
		t.Errorf("%s: ports %+v do not match PORT=%q", d.Name, c.Ports, env["PORT"].Value)
	}
	for _, p := range []struct {
		probe *corev1.Probe
		what  string
		path  string
	}{{c.LivenessProbe, "liveness", "/healthz"}, {c.ReadinessProbe, "readiness", "/readyz"}, {c.StartupProbe, "startup", "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s: %s probe %+v, want GET %s on port http", d.Name, p.what, p.probe, p.path)
		}
	}

	// The environment each service needs, and nothing more.
	if got := env["TELEFONISTKA_STREAM_REPLICAS"].Value; got != strconv.Itoa(v.NATS.StreamReplicas) {
		t.Errorf("%s: TELEFONISTKA_STREAM_REPLICAS=%q, want %d", d.Name, got, v.NATS.StreamReplicas)
	}
	if env["NATS_URL"].Value == "" {
		t.Errorf("%s: no NATS_URL", d.Name)
	}
	if _, ok := env["NATS_CREDS"]; ok != (v.NATS.CredsSecret != "") {
		t.Errorf("%s: NATS_CREDS set %v, want %v", d.Name, ok, v.NATS.CredsSecret != "")
	}
	_, webhook := env["GITHUB_WEBHOOK_SECRET"]
	if webhook != (name == "ingress") {
		t.Errorf("%s: GITHUB_WEBHOOK_SECRET given: %v; only ingress checks signatures", d.Name, webhook)
	}
	identity := env["GITHUB_APP_ID"].Value != "" || env["GITHUB_OAUTH_TOKEN"].ValueFrom != nil
	if identity == (name == "ingress") {
		t.Errorf("%s: GitHub identity given: %v; every service but ingress calls GitHub", d.Name, identity)
	}
	approver := false
	for k := range env {
		approver = approver || strings.HasPrefix(k, "APPROVER_")
	}
	if approver != (name == "promoter" && v.GitHub.Approver.Enabled) {
		t.Errorf("%s: approver identity given: %v; only the promoter approves, when github.approver.enabled", d.Name, approver)
	}
	checkArgoCDEnv(t, d.Name, name, env, v)
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef == nil && e.ValueFrom.ConfigMapKeyRef == nil {
			t.Errorf("%s: %s: unexpected valueFrom %+v", d.Name, e.Name, e.ValueFrom)
		}
		if isPathVar(e.Name) || e.Name == "TEMPLATES_PATH" {
			checkPodPath(t, d, c, e.Name, e.Value)
		}
	}
}

// checkPodPath checks that the file or directory a variable names is on a
// volume of the pod: a secret or config map holding that file, or a
// directory mount.
func checkPodPath(t *testing.T, d *appsv1.Deployment, c corev1.Container, what, p string) {
	t.Helper()
	if what == "TEMPLATES_PATH" && p == templatesDir {
		// The image's directory, unless a ConfigMap is mounted there.
		for _, vm := range c.VolumeMounts {
			if vm.MountPath == p {
				return
			}
		}
		return
	}
	for _, vm := range c.VolumeMounts {
		if !strings.HasPrefix(p, vm.MountPath+"/") {
			continue
		}
		file := strings.TrimPrefix(p, vm.MountPath+"/")
		for _, vol := range d.Spec.Template.Spec.Volumes {
			if vol.Name != vm.Name {
				continue
			}
			var items []corev1.KeyToPath
			switch {
			case vol.Secret != nil:
				items = vol.Secret.Items
			case vol.ConfigMap != nil:
				items = vol.ConfigMap.Items
			default:
				return
			}
			for _, it := range items {
				if it.Path == file {
					return
				}
			}
			t.Errorf("%s: %s=%s: volume %s has no file %s", d.Name, what, p, vol.Name, file)
			return
		}
		t.Errorf("%s: mount %s names no volume", d.Name, vm.Name)
		return
	}
	t.Errorf("%s: %s=%s is not on any volume", d.Name, what, p)
}

// checkSelectors checks that Services, PodDisruptionBudgets, NetworkPolicies
// and the ServiceMonitor select the release's pods, HPAs scale its
// Deployments, and the Ingress and HTTPRoute reach the ingress Service.
func checkSelectors(t *testing.T, m *manifests) {
	t.Helper()
	podsOf := func(sel labels.Selector) []string {
		var out []string
		for _, d := range m.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				out = append(out, d.Name)
			}
		}
		return out
	}
	one := func(kind, name string, sel labels.Selector) {
		if n := podsOf(sel); len(n) != 1 {
			t.Errorf("%s %s selects the pods of %q, want exactly one Deployment", kind, name, n)
		}
	}
	services := map[string]*corev1.Service{}
	for _, s := range m.services {
		services[s.Name] = s
		one("Service", s.Name, labels.SelectorFromSet(s.Spec.Selector))
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != "http" || s.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("Service %s ports %+v, want http -> http", s.Name, s.Spec.Ports)
		}
	}
	if len(m.services) != len(m.deployments) {
		t.Errorf("%d Services for %d Deployments", len(m.services), len(m.deployments))
	}
	for _, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		one("PodDisruptionBudget", p.Name, sel)
	}
	for _, np := range m.networkPolicies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		one("NetworkPolicy", np.Name, sel)
	}
	for _, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		var target *appsv1.Deployment
		for _, d := range m.deployments {
			if d.Name == ref.Name && ref.Kind == "Deployment" {
				target = d
			}
		}
		if target == nil {
			t.Errorf("HPA %s scales %s %s, which is not rendered", h.Name, ref.Kind, ref.Name)
		} else if target.Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas, but HPA %s scales it (every upgrade would reset it)", target.Name, h.Name)
		}
	}
	for _, sm := range m.serviceMonitors {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range m.services {
			if !sel.Matches(labels.Set(s.Labels)) {
				t.Errorf("ServiceMonitor %s does not scrape Service %s", sm.Name, s.Name)
			}
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor %s endpoints %+v, want port http path /metrics", sm.Name, sm.Spec.Endpoints)
		}
	}
	webhookService := func(kind, name, service string) {
		s := services[service]
		if s == nil || s.Labels["app.kubernetes.io/component"] != "ingress" {
			t.Errorf("%s %s sends webhooks to Service %s, which is not the ingress service's", kind, name, service)
		}
	}
	for _, in := range m.ingresses {
		for _, r := range in.Spec.Rules {
			if r.HTTP == nil || len(r.HTTP.Paths) != 1 || r.HTTP.Paths[0].Path != "/webhook" {
				t.Errorf("Ingress %s: rule %+v, want only /webhook", in.Name, r)
				continue
			}
			webhookService("Ingress", in.Name, r.HTTP.Paths[0].Backend.Service.Name)
		}
	}
	for _, hr := range m.httpRoutes {
		for _, r := range hr.Spec.Rules {
			if len(r.Matches) != 1 || r.Matches[0].Path == nil || *r.Matches[0].Path.Value != "/webhook" {
				t.Errorf("HTTPRoute %s: rule %+v, want only /webhook", hr.Name, r)
			}
			for _, b := range r.BackendRefs {
				webhookService("HTTPRoute", hr.Name, string(b.Name))
				if b.Port == nil || services[string(b.Name)] == nil || int32(*b.Port) != services[string(b.Name)].Spec.Ports[0].Port {
					t.Errorf("HTTPRoute %s: backend port %v is not the Service's", hr.Name, b.Port)
				}
			}
		}
	}
}

// checkTemplateFiles checks that comment template overrides have the names
// of templates the services load, and reach the services that comment.
func checkTemplateFiles(t *testing.T, files map[string]string, m *manifests) {
	t.Helper()
	if len(files) == 0 {
		return
	}
	known := map[string]bool{}
	for _, dir := range []string{"pkg/plan/comments/templates", "services/drift/internal/comments/templates",
		"services/tracker/internal/render/templates", "services/argodiff/internal/comment/templates"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			known[e.Name()] = true
		}
	}
	for f := range files {
		if !known[f] {
			t.Errorf("template override %s: no service loads a template file of that name", f)
		}
	}
	var cm *corev1.ConfigMap
	for _, c := range m.configMaps {
		if strings.HasSuffix(c.Name, "-templates") {
			cm = c
		}
	}
	if cm == nil || len(cm.Data) != len(files) {
		t.Fatalf("no ConfigMap with the %d template files", len(files))
	}
	for _, d := range m.deployments {
		name := d.Labels["app.kubernetes.io/component"]
		mounted := false
		for _, vm := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
			mounted = mounted || vm.MountPath == templatesDir
		}
		if comments := slices.Contains([]string{"planner", "promoter", "drift", "tracker", "argodiff"}, name); mounted != comments {
			t.Errorf("%s: templates mounted: %v, want %v", d.Name, mounted, comments)
		}
	}
}

// imageUser returns the numeric user of the Dockerfile's final stage.
func imageUser(t *testing.T) int64 {
	t.Helper()
	df := parseDockerfile(t)
	user := df.Stages[len(df.Stages)-1].Find("USER")
	if len(user) != 1 {
		t.Fatal("the image has no USER")
	}
	uid, _, _ := strings.Cut(user[0].Args, ":")
	n, err := strconv.ParseInt(uid, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChartTwoReleasesInOneNamespace renders two releases and checks that no
// selector of one selects the pods of the other.
func TestChartTwoReleasesInOneNamespace(t *testing.T) {
	a := decode(t, render(t, "team-a", ""))
	b := decode(t, render(t, "team-b", ""))
	names := map[string]bool{}
	for _, o := range append(a.all, b.all...) {
		meta, err := metaOf(o)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%T/%s", o, meta.GetName())
		if names[key] {
			t.Errorf("both releases render %s", key)
		}
		names[key] = true
	}
	for _, s := range a.services {
		for _, d := range b.deployments {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("Service %s of team-a selects the pods of %s of team-b", s.Name, d.Name)
			}
		}
	}
	for _, p := range a.pdbs {
		sel, _ := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		for _, d := range b.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("PodDisruptionBudget %s of team-a selects the pods of %s of team-b", p.Name, d.Name)
			}
		}
	}
}

func metaOf(o runtime.Object) (metav1.Object, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", o)
	}
	return m, nil
}

// TestChartRejectsBadValues checks that the values schema refuses what a
// team could mistype instead of ignoring it.
func TestChartRejectsBadValues(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want string
	}{
		{[]string{"services.ingress.replica=2"}, "replica"},
		{[]string{"servces.ingress.replicas=2"}, "servces"},
		{[]string{"nats.streamReplicas=0"}, "streamReplicas"},
		{[]string{"github.auth=app"}, "appId"},
		{[]string{"github.auth=oauth"}, "auth"},
		{[]string{"env.NATS_URL=nats://elsewhere:4222"}, "NATS_URL"},
		{[]string{"services.promoter.env.GITHUB_APP_ID=2"}, "GITHUB_APP_ID"},
		{[]string{"services.ingress.pdb.minAvailable=1", "services.ingress.pdb.maxUnavailable=1"}, "pdb"},
		{[]string{"ingress.enabled=true"}, "hosts"},
		{[]string{"log.level=verbose"}, "level"},
		{[]string{"argocd.serverAddr=https://argocd.example.com"}, "serverAddr"},
		{[]string{"argocd.diffConcurrency=0"}, "diffConcurrency"},
		{[]string{"services.argodiff.env.ARGOCD_TOKEN=secret"}, "ARGOCD_TOKEN"},
		{[]string{"templates.files.notes\\.txt=x"}, "notes.txt"},
		{[]string{"services.ingress.enabled=false", "ingress.enabled=true", "ingress.hosts[0]=a.example.com"}, "services.ingress.enabled"},
	} {
		args := []string{"template", "x", chartDir}
		for _, s := range c.set {
			args = append(args, "--set", s)
		}
		_, err := helm(t, args...)
		if err == nil {
			t.Errorf("--set %s: rendered, want an error", strings.Join(c.set, " --set "))
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: the error does not name %q:\n%v", strings.Join(c.set, " --set "), c.want, err)
		}
	}
}

// TestChartCoversEveryKind checks that the values files CI renders use every
// optional object of the chart, so each kind is decoded at least once.
func TestChartCoversEveryKind(t *testing.T) {
	kinds := map[string]bool{}
	for _, c := range chartCases {
		for _, o := range decode(t, render(t, "telefonistka", c.values)).all {
			kinds[fmt.Sprintf("%T", o)] = true
		}
	}
	for _, k := range []string{"v1.Deployment", "v1.Service", "v1.PodDisruptionBudget", "v2.HorizontalPodAutoscaler",
		"v1.NetworkPolicy", "v1.Ingress", "v1.ConfigMap", "v1.ServiceAccount", "v1.ServiceMonitor", "v1.HTTPRoute"} {
		if !kinds["*"+k] {
			t.Errorf("no values file renders a %s", k)
		}
	}
}

func mustUnmarshalYAML(t *testing.T, text string, v any) {
	t.Helper()
	if err := sigsyaml.Unmarshal([]byte(text), v); err != nil {
		t.Fatal(err)
	}
}

// TestNATSValuesExample checks the values example for the official NATS
// chart gives what the services need: a 3-node cluster (for 3 stream
// replicas), JetStream on disk, and a 48MB max payload.
func TestNATSValuesExample(t *testing.T) {
	data, err := os.ReadFile("helm/nats-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			JetStream struct {
				Enabled   bool `json:"enabled"`
				FileStore struct {
					Enabled bool `json:"enabled"`
					PVC     struct {
						Enabled bool `json:"enabled"`
					} `json:"pvc"`
				} `json:"fileStore"`
			} `json:"jetstream"`
			Merge map[string]string `json:"merge"`
		} `json:"config"`
	}
	mustUnmarshalYAML(t, string(data), &v)
	c := v.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas != 3 {
		t.Errorf("cluster %+v, want 3 servers", c.Cluster)
	}
	if !c.JetStream.Enabled || !c.JetStream.FileStore.Enabled || !c.JetStream.FileStore.PVC.Enabled {
		t.Errorf("jetstream %+v, want file storage on persistent volumes", c.JetStream)
	}
	if got := c.Merge["max_payload"]; got != "<< 48MB >>" {
		t.Errorf("max_payload %q, want << 48MB >>", got)
	}
	defaults, err := helm(t, "show", "values", chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(defaults, "streamReplicas: 3") {
		t.Error("the chart's default stream replicas are not the example's 3 servers")
	}
}

// checkArgoCDEnv checks the Argo CD connection: argodiff alone gets it, its
// server from argocd.serverAddr and its token from the Secret, never as a
// literal value.
func checkArgoCDEnv(t *testing.T, deployment, name string, env map[string]corev1.EnvVar, v values) {
	t.Helper()
	for k := range env {
		if strings.HasPrefix(k, "ARGOCD_") && name != "argodiff" {
			t.Errorf("%s: %s given; only argodiff calls Argo CD", deployment, k)
		}
	}
	if name != "argodiff" {
		return
	}
	if got := env["ARGOCD_SERVER_ADDR"].Value; got == "" || got != v.ArgoCD.ServerAddr {
		t.Errorf("%s: ARGOCD_SERVER_ADDR=%q, want argocd.serverAddr %q", deployment, got, v.ArgoCD.ServerAddr)
	}
	for _, k := range []string{"ARGOCD_PLAINTEXT", "ARGOCD_INSECURE", "ARGOCD_DIFF_CONCURRENCY"} {
		if _, ok := env[k]; !ok {
			t.Errorf("%s: %s not set", deployment, k)
		}
	}
	tok := env["ARGOCD_TOKEN"]
	if tok.Value != "" || tok.ValueFrom == nil || tok.ValueFrom.SecretKeyRef == nil ||
		tok.ValueFrom.SecretKeyRef.Name != v.ArgoCD.TokenSecret || tok.ValueFrom.SecretKeyRef.Key != v.ArgoCD.TokenKey {
		t.Errorf("%s: ARGOCD_TOKEN %+v, want it from Secret %s key %s", deployment, tok, v.ArgoCD.TokenSecret, v.ArgoCD.TokenKey)
	}
}

// checkArgoCDEgress checks that, with egress rules, argodiff's
// NetworkPolicy lets it reach Argo CD's ports.
func checkArgoCDEgress(t *testing.T, m *manifests, v values) {
	t.Helper()
	if !v.NetworkPolicy.Egress.Enabled {
		return
	}
	for _, np := range m.networkPolicies {
		if np.Labels["app.kubernetes.io/component"] != "argodiff" {
			continue
		}
		reaches := map[int]bool{}
		for _, rule := range np.Spec.Egress {
			for _, p := range rule.Ports {
				if p.Port != nil {
					reaches[p.Port.IntValue()] = true
				}
			}
		}
		for _, port := range v.NetworkPolicy.Egress.ArgoCDPorts {
			if !reaches[port] {
				t.Errorf("NetworkPolicy %s: no egress to Argo CD's port %d", np.Name, port)
			}
		}
	}
}
