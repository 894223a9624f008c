package argodiff

import (
	"context"
	"sort"
	"sync"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/appdiff"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/discover"
)

// ArgoCD is the Argo CD API the service uses; *argocd.Client is one.
type ArgoCD interface {
	ListApps(ctx context.Context, repoURL, selector string) ([]v1alpha1.Application, error)
	GetApp(ctx context.Context, app argocd.App, hardRefresh bool) (*v1alpha1.Application, error)
	ManagedResources(ctx context.Context, app argocd.App) ([]*v1alpha1.ResourceDiff, error)
	Manifests(ctx context.Context, app argocd.App, project, revision string) ([]string, error)
	CreateApp(ctx context.Context, a *v1alpha1.Application) (*v1alpha1.Application, error)
	DeleteApp(ctx context.Context, app argocd.App) error
	MergePatchApp(ctx context.Context, app argocd.App, patch string) (*v1alpha1.Application, error)
	Settings(ctx context.Context) (*settings.Settings, error)
	ListAppSets(ctx context.Context) ([]v1alpha1.ApplicationSet, error)
}

// lazy computes a value once per run; a failure is kept too (the run is
// delivered again as a whole).
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(f func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = f() })
	return l.v, l.err
}

// finder finds the applications of a run's components and diffs them. The
// application listing (annotation mode), the ApplicationSets and the
// settings are read once per run.
type finder struct {
	argo    ArgoCD
	repoURL string
	cfg     config.ArgoCD

	apps     lazy[[]v1alpha1.Application]
	sets     lazy[[]v1alpha1.ApplicationSet]
	settings lazy[*settings.Settings]
}

func newFinder(argo ArgoCD, repoURL string, cfg config.ArgoCD) *finder {
	return &finder{argo: argo, repoURL: repoURL, cfg: cfg}
}

// foundApp is a component's application, as read with a hard refresh (or
// as created, for a temporary one).
type foundApp struct {
	app       *v1alpha1.Application
	temporary bool
}

// syncedFromBranch reports whether the application already deploys branch
// with auto-sync: its diff is skipped.
func (f *foundApp) syncedFromBranch(branch string) bool {
	a := f.app
	return !f.temporary && branch != "" && a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil &&
		a.Spec.GetSource().TargetRevision == branch
}

// app finds the existing application of a component (SPEC §7.2), or nil.
func (f *finder) app(ctx context.Context, path string) (*v1alpha1.Application, error) {
	if f.cfg.UseSHALabelForAppDiscovery {
		list, err := f.argo.ListApps(ctx, f.repoURL, discover.LabelSelector(path))
		if err != nil || len(list) == 0 {
			return nil, err
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		return &list[0], nil
	}
	apps, err := f.apps.get(func() ([]v1alpha1.Application, error) { return f.argo.ListApps(ctx, f.repoURL, "") })
	if err != nil {
		return nil, err
	}
	return discover.ByAnnotation(apps, path), nil
}

// find returns the component's application re-read with a hard refresh,
// or a temporary one rendered from a matching ApplicationSet
// (createTempAppObjectFromNewApps) targeting branch, or nil.
func (f *finder) find(ctx context.Context, path, branch string) (*foundApp, error) {
	app, err := f.app(ctx, path)
	if err != nil {
		return nil, err
	}
	if app != nil {
		fresh, err := f.argo.GetApp(ctx, appRef(app), true)
		if err != nil {
			return nil, err
		}
		return &foundApp{app: fresh}, nil
	}
	if !f.cfg.CreateTempAppObjectFromNewApps {
		return nil, nil
	}
	sets, err := f.sets.get(func() ([]v1alpha1.ApplicationSet, error) { return f.argo.ListAppSets(ctx) })
	if err != nil {
		return nil, err
	}
	set := discover.MatchAppSet(sets, f.repoURL, path)
	if set == nil {
		return nil, nil
	}
	tmp, err := discover.TempApp(set, path, branch)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	created, err := f.argo.CreateApp(ctx, tmp)
	if err != nil {
		return nil, err
	}
	return &foundApp{app: created, temporary: true}, nil
}

func (f *finder) readSettings(ctx context.Context) (*settings.Settings, error) {
	return f.settings.get(func() (*settings.Settings, error) { return f.argo.Settings(ctx) })
}

// diff compares the application's live resources with its manifests at
// revision.
func (f *finder) diff(ctx context.Context, app *v1alpha1.Application, revision string) ([]appdiff.Object, error) {
	st, err := f.readSettings(ctx)
	if err != nil {
		return nil, err
	}
	res, err := f.argo.ManagedResources(ctx, appRef(app))
	if err != nil {
		return nil, err
	}
	manifests, err := f.argo.Manifests(ctx, appRef(app), app.Spec.Project, revision)
	if err != nil {
		return nil, err
	}
	objs, err := appdiff.Diff(app, res, manifests, appdiff.Settings{
		AppLabelKey: st.AppLabelKey, TrackingMethod: st.TrackingMethod, InstallationID: st.InstallationID,
		ControllerNamespace: st.ControllerNamespace, Overrides: appdiff.OverridesOf(st.ResourceOverrides),
	})
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return objs, nil
}
