package argocdemu

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/applicationset"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/project"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	repoapiclient "github.com/argoproj/argo-cd/v2/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v2/util/argo"
	"github.com/argoproj/argo-cd/v2/util/glob"
	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	jsonpatch "github.com/evanphx/json-patch"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/telefonistka/telefonistka/services/argodiff/internal/discover"
)

type appService struct {
	application.UnimplementedApplicationServiceServer
	s *Server
}

func (a *appService) List(_ context.Context, q *application.ApplicationQuery) (*v1alpha1.ApplicationList, error) {
	sel := labels.Everything()
	if q.GetSelector() != "" {
		var err error
		if sel, err = labels.Parse(q.GetSelector()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid selector %q: %v", q.GetSelector(), err)
		}
	}
	projects := append(q.GetProjects(), q.GetProject()...)
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	list := &v1alpha1.ApplicationList{}
	for _, app := range s.apps {
		if q.GetRepo() != "" && !discover.SameRepo(app.Spec.GetSource().RepoURL, q.GetRepo()) {
			continue
		}
		if !sel.Matches(labels.Set(app.Labels)) {
			continue
		}
		if len(projects) > 0 && !contains(projects, app.Spec.Project) {
			continue
		}
		list.Items = append(list.Items, *app.DeepCopy())
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (a *appService) Get(_ context.Context, q *application.ApplicationQuery) (*v1alpha1.Application, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[q.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", q.GetName())
	}
	if q.GetRefresh() != "" {
		s.refreshes[app.Name]++
	}
	return app.DeepCopy(), nil
}

func (a *appService) Create(_ context.Context, r *application.ApplicationCreateRequest) (*v1alpha1.Application, error) {
	if r.Application == nil || r.Application.Name == "" {
		return nil, status.Error(codes.InvalidArgument, "application name is required")
	}
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.apps[r.Application.Name]; ok {
		if reflect.DeepEqual(old.Spec, r.Application.Spec) || r.GetUpsert() {
			if r.GetUpsert() {
				old.Spec = *r.Application.Spec.DeepCopy()
			}
			return old.DeepCopy(), nil
		}
		return nil, status.Errorf(codes.InvalidArgument, "existing application spec is different, use upsert flag to force update")
	}
	app := r.Application.DeepCopy()
	if app.Spec.Project == "" {
		app.Spec.Project = "default"
	}
	defaultStatus(app)
	s.apps[app.Name] = app
	s.resources[app.Name] = nil // nothing of a new application is deployed yet
	return app.DeepCopy(), nil
}

func (a *appService) Delete(_ context.Context, r *application.ApplicationDeleteRequest) (*application.ApplicationResponse, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[r.GetName()]; !ok {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", r.GetName())
	}
	delete(s.apps, r.GetName())
	delete(s.resources, r.GetName())
	return &application.ApplicationResponse{}, nil
}

func (a *appService) Patch(_ context.Context, r *application.ApplicationPatchRequest) (*v1alpha1.Application, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[r.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", r.GetName())
	}
	if t := r.GetPatchType(); t != "merge" && t != "" {
		return nil, status.Errorf(codes.InvalidArgument, "patch type %q is not supported here (merge only)", t)
	}
	orig, err := json.Marshal(app)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	patched, err := jsonpatch.MergePatch(orig, []byte(r.GetPatch()))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid merge patch: %v", err)
	}
	var next v1alpha1.Application
	if err := json.Unmarshal(patched, &next); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "the patched application is invalid: %v", err)
	}
	s.apps[next.Name] = &next
	return next.DeepCopy(), nil
}

// revisionOf is the revision a query names, or the app's target revision.
func revisionOf(app *v1alpha1.Application, rev string) string {
	if rev != "" {
		return rev
	}
	if r := app.Spec.GetSource().TargetRevision; r != "" {
		return r
	}
	return "HEAD"
}

func (a *appService) GetManifests(ctx context.Context, q *application.ApplicationManifestQuery) (*repoapiclient.ManifestResponse, error) {
	s := a.s
	s.mu.Lock()
	app, ok := s.apps[q.GetName()]
	if ok {
		app = app.DeepCopy()
	}
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", q.GetName())
	}
	if err := s.checkProject(app); err != nil {
		return nil, err
	}
	rev := revisionOf(app, q.GetRevision())
	objs, err := s.render(ctx, app, rev)
	if err != nil {
		return nil, err
	}
	resp := &repoapiclient.ManifestResponse{Revision: rev, SourceType: "Directory"}
	for _, o := range objs {
		data, err := json.Marshal(o.Object)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		resp.Manifests = append(resp.Manifests, string(data))
	}
	return resp, nil
}

// checkProject refuses an application whose project does not allow its
// source repository (as Argo CD does before generating manifests).
func (s *Server) checkProject(app *v1alpha1.Application) error {
	s.mu.Lock()
	proj, ok := s.projects[app.Spec.GetProject()]
	s.mu.Unlock()
	if !ok {
		return status.Errorf(codes.InvalidArgument, "application references project %s which does not exist", app.Spec.GetProject())
	}
	repo := app.Spec.GetSource().RepoURL
	for _, allowed := range proj.Spec.SourceRepos {
		if allowed == "*" || discover.SameRepo(allowed, repo) || glob.Match(allowed, repo) {
			return nil
		}
	}
	return status.Errorf(codes.InvalidArgument, "application repo %s is not permitted in project '%s'", repo, proj.Name)
}

// render returns the manifests of app at rev, tracked as Argo CD tracks
// what it deploys: from the fixture, else from the Source.
func (s *Server) render(ctx context.Context, app *v1alpha1.Application, rev string) ([]*unstructured.Unstructured, error) {
	s.mu.Lock()
	fixed, ok := s.manifests[app.Name][rev]
	s.mu.Unlock()
	var objs []*unstructured.Unstructured
	switch {
	case ok:
		for _, o := range fixed {
			objs = append(objs, o.DeepCopy())
		}
	case s.opts.Source != nil:
		src := app.Spec.GetSource()
		recurse := src.Directory != nil && src.Directory.Recurse
		var err error
		objs, err = s.opts.Source.Render(ctx, src.RepoURL, rev, src.Path, recurse)
		if err != nil {
			return nil, status.Errorf(codes.Unknown, "Manifest generation error (cached): rendering %s at %s: %v", src.Path, rev, err)
		}
	default:
		return nil, status.Errorf(codes.Unknown, "Manifest generation error (cached): revision %s of application %s is unknown", rev, app.Name)
	}
	return objs, s.track(app, objs)
}

// track places objects in the application's namespace and sets Argo CD's
// tracking label or annotation on them.
func (s *Server) track(app *v1alpha1.Application, objs []*unstructured.Unstructured) error {
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	tracking := argo.NewResourceTracking()
	for _, o := range objs {
		if o.GetNamespace() == "" && !isClusterScoped(o) {
			o.SetNamespace(app.Spec.Destination.Namespace)
		}
		if kube.IsCRD(o) {
			continue
		}
		if err := tracking.SetAppInstance(o, st.AppLabelKey, app.InstanceName(st.ControllerNamespace), app.Spec.Destination.Namespace, v1alpha1.TrackingMethod(st.TrackingMethod), ""); err != nil {
			return status.Error(codes.Internal, err.Error())
		}
	}
	return nil
}

func isClusterScoped(o *unstructured.Unstructured) bool {
	switch o.GetKind() {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass":
		return true
	}
	return false
}

// live returns an application's live resources: the fixture's, else its
// manifests at its target revision (an application in sync).
func (s *Server) live(ctx context.Context, app *v1alpha1.Application) ([]*unstructured.Unstructured, error) {
	s.mu.Lock()
	fixed, ok := s.resources[app.Name]
	s.mu.Unlock()
	if !ok {
		if s.opts.Source == nil {
			return nil, nil
		}
		return s.render(ctx, app, revisionOf(app, ""))
	}
	out := make([]*unstructured.Unstructured, 0, len(fixed))
	for _, o := range fixed {
		out = append(out, o.DeepCopy())
	}
	// What Argo CD deployed carries its tracking.
	return out, s.track(app, out)
}

func (a *appService) ManagedResources(ctx context.Context, q *application.ResourcesQuery) (*application.ManagedResourcesResponse, error) {
	s := a.s
	s.mu.Lock()
	app, ok := s.apps[q.GetApplicationName()]
	if ok {
		app = app.DeepCopy()
	}
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", q.GetApplicationName())
	}
	objs, err := s.live(ctx, app)
	if err != nil {
		return nil, err
	}
	resp := &application.ManagedResourcesResponse{}
	for _, o := range objs {
		data, err := json.Marshal(o.Object)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		gvk := o.GroupVersionKind()
		resp.Items = append(resp.Items, &v1alpha1.ResourceDiff{
			Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName(),
			LiveState: string(data), NormalizedLiveState: string(data),
		})
	}
	sort.Slice(resp.Items, func(i, j int) bool { return resourceKey(resp.Items[i]) < resourceKey(resp.Items[j]) })
	return resp, nil
}

func resourceKey(r *v1alpha1.ResourceDiff) string {
	return strings.Join([]string{r.Group, r.Kind, r.Namespace, r.Name}, "/")
}

type appSetService struct {
	applicationset.UnimplementedApplicationSetServiceServer
	s *Server
}

func (a *appSetService) List(context.Context, *applicationset.ApplicationSetListQuery) (*v1alpha1.ApplicationSetList, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	list := &v1alpha1.ApplicationSetList{}
	for i := range a.s.appSets {
		list.Items = append(list.Items, *a.s.appSets[i].DeepCopy())
	}
	return list, nil
}

func (a *appSetService) Get(_ context.Context, q *applicationset.ApplicationSetGetQuery) (*v1alpha1.ApplicationSet, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	for i := range a.s.appSets {
		if a.s.appSets[i].Name == q.GetName() {
			return a.s.appSets[i].DeepCopy(), nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "applicationsets.argoproj.io %q not found", q.GetName())
}

type settingsService struct {
	settings.UnimplementedSettingsServiceServer
	s *Server
}

func (a *settingsService) Get(context.Context, *settings.SettingsQuery) (*settings.Settings, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	st := a.s.settings
	out := &settings.Settings{
		URL: st.URL, AppLabelKey: st.AppLabelKey, TrackingMethod: st.TrackingMethod,
		ControllerNamespace: st.ControllerNamespace,
		ResourceOverrides:   map[string]*v1alpha1.ResourceOverride{},
	}
	for k, v := range st.ResourceOverrides {
		o := v
		out.ResourceOverrides[k] = &o
	}
	return out, nil
}

type projectService struct {
	project.UnimplementedProjectServiceServer
	s *Server
}

func (p *projectService) Get(_ context.Context, q *project.ProjectQuery) (*v1alpha1.AppProject, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if pr, ok := p.s.projects[q.GetName()]; ok {
		return pr.DeepCopy(), nil
	}
	return nil, status.Errorf(codes.NotFound, "appprojects.argoproj.io %q not found", q.GetName())
}

func (p *projectService) List(context.Context, *project.ProjectQuery) (*v1alpha1.AppProjectList, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	list := &v1alpha1.AppProjectList{}
	for _, pr := range p.s.projects {
		list.Items = append(list.Items, *pr.DeepCopy())
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list, nil
}
