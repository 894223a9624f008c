// Package argocdemu is a test Argo CD API server: it implements argo-cd's
// generated gRPC services for applications, ApplicationSets, settings and
// projects over state seeded from a YAML fixture, so argo-cd's own API
// client talks to it unchanged. Manifests come from the fixture or from a
// Source (a GitHub repository read through its REST API, e.g. the GitHub
// emulator). Like the GitHub emulator it injects latency and faults and
// counts calls; it runs in tests (New) or standalone (telefonistka
// argocd-emulator). See README.md.
package argocdemu

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/applicationset"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/project"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v2/util/argo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Source renders the manifests of a directory of a repository at a
// revision (a branch, a SHA or HEAD), as Argo CD's repo server would.
type Source interface {
	Render(ctx context.Context, repoURL, revision, dir string, recurse bool) ([]*unstructured.Unstructured, error)
}

// Options configure a Server.
type Options struct {
	// Token, if set, is the only token accepted.
	Token string
	// Source renders manifests the fixture does not hold (nil: none).
	Source Source
	Log    *slog.Logger
}

// Server is the test Argo CD API server.
type Server struct {
	opts Options
	grpc *grpc.Server
	http *http.Server
	lis  net.Listener

	mu        sync.Mutex
	settings  SettingsFixture
	apps      map[string]*v1alpha1.Application // by name
	appSets   []v1alpha1.ApplicationSet
	projects  map[string]*v1alpha1.AppProject
	resources map[string][]*unstructured.Unstructured
	manifests map[string]map[string][]*unstructured.Unstructured
	counters  map[string]int
	refreshes map[string]int
	latency   Latency
	faults    []*Fault
}

// New seeds a server from fixture (nil: empty). Start serves it.
func New(fixture *Fixture, opts Options) *Server {
	if fixture == nil {
		fixture = &Fixture{}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{
		opts:      opts,
		settings:  fixture.Settings,
		apps:      map[string]*v1alpha1.Application{},
		projects:  map[string]*v1alpha1.AppProject{},
		resources: map[string][]*unstructured.Unstructured{},
		manifests: map[string]map[string][]*unstructured.Unstructured{},
		counters:  map[string]int{},
		refreshes: map[string]int{},
	}
	if s.settings.AppLabelKey == "" {
		s.settings.AppLabelKey = "app.kubernetes.io/instance"
	}
	if s.settings.TrackingMethod == "" {
		s.settings.TrackingMethod = string(argo.TrackingMethodLabel)
	}
	if s.settings.URL == "" {
		s.settings.URL = "https://argocd.example.com"
	}
	for i := range fixture.Applications {
		a := fixture.Applications[i].DeepCopy()
		defaultStatus(a)
		s.apps[a.Name] = a
	}
	s.appSets = append(s.appSets, fixture.ApplicationSets...)
	for i := range fixture.Projects {
		p := fixture.Projects[i].DeepCopy()
		s.projects[p.Name] = p
	}
	if _, ok := s.projects["default"]; !ok {
		s.projects["default"] = &v1alpha1.AppProject{Spec: v1alpha1.AppProjectSpec{SourceRepos: []string{"*"}}}
		s.projects["default"].Name = "default"
	}
	for name, list := range fixture.Resources {
		s.resources[name] = toObjects(list)
	}
	for name, revs := range fixture.Manifests {
		s.manifests[name] = map[string][]*unstructured.Unstructured{}
		for rev, list := range revs {
			s.manifests[name][rev] = toObjects(list)
		}
	}
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	application.RegisterApplicationServiceServer(s.grpc, &appService{s: s})
	applicationset.RegisterApplicationSetServiceServer(s.grpc, &appSetService{s: s})
	settings.RegisterSettingsServiceServer(s.grpc, &settingsService{s: s})
	project.RegisterProjectServiceServer(s.grpc, &projectService{s: s})
	return s
}

func defaultStatus(a *v1alpha1.Application) {
	if a.Status.Health.Status == "" {
		a.Status.Health.Status = "Healthy"
	}
	if a.Status.Sync.Status == "" {
		a.Status.Sync.Status = v1alpha1.SyncStatusCodeSynced
	}
}

// Start serves gRPC (plaintext HTTP/2) and the JSON controls under
// /_argocd/ on addr ("127.0.0.1:0" for a free port).
func (s *Server) Start(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.lis = lis
	controls := s.controls()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			s.grpc.ServeHTTP(w, r)
			return
		}
		controls.ServeHTTP(w, r)
	})
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC in plaintext
	s.http = &http.Server{Handler: h, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(lis) }()
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops the server.
func (s *Server) Close() error {
	s.grpc.Stop()
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// intercept checks the token, counts the call, and applies the injected
// latency and faults.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := shortMethod(info.FullMethod)
	if s.opts.Token != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		if tokens := md.Get("token"); len(tokens) == 0 || tokens[0] != s.opts.Token {
			return nil, status.Error(codes.Unauthenticated, "invalid session: token is missing or wrong")
		}
	}
	s.mu.Lock()
	s.counters[method]++
	delay := s.latency.of(method)
	fault := s.takeFault(method)
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	if fault != nil {
		if fault.Code == FaultHang {
			<-ctx.Done()
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return nil, status.Error(fault.code(), "injected fault")
	}
	return handler(ctx, req)
}

// shortMethod turns "/application.ApplicationService/Get" into
// "ApplicationService/Get".
func shortMethod(full string) string {
	full = strings.TrimPrefix(full, "/")
	if i := strings.Index(full, "."); i >= 0 {
		return full[i+1:]
	}
	return full
}

// Counters returns the calls per method ("ApplicationService/Get") and the
// hard refreshes per application ("refresh/<app>").
func (s *Server) Counters() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counters)+len(s.refreshes))
	for k, v := range s.counters {
		out[k] = v
	}
	for k, v := range s.refreshes {
		out["refresh/"+k] = v
	}
	return out
}

// ResetCounters zeroes the counters.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = map[string]int{}
	s.refreshes = map[string]int{}
}

// App returns a copy of an application, or nil.
func (s *Server) App(name string) *v1alpha1.Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[name]; ok {
		return a.DeepCopy()
	}
	return nil
}

// Apps returns copies of every application, sorted by name.
func (s *Server) Apps() []v1alpha1.Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]v1alpha1.Application, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, *a.DeepCopy())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PutApp adds or replaces an application.
func (s *Server) PutApp(a *v1alpha1.Application) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a = a.DeepCopy()
	defaultStatus(a)
	s.apps[a.Name] = a
}

// SetLive replaces an application's live resources (nil: live follows its
// target revision again).
func (s *Server) SetLive(app string, objs []*unstructured.Unstructured) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if objs == nil {
		delete(s.resources, app)
		return
	}
	s.resources[app] = objs
}
