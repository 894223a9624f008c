package argocdemu_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
	"github.com/telefonistka/telefonistka/services/argodiff/internal/argocd"
	"google.golang.org/grpc/codes"
)

func start(t *testing.T, token string) (*argocdemu.Server, *argocd.Client) {
	t.Helper()
	f, err := argocdemu.LoadFixture("testdata/fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := argocdemu.New(f, argocdemu.Options{Token: "s3cret"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c := argocd.New(argocd.Options{ServerAddr: s.Addr(), Token: token, PlainText: true, CallTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

func TestArgoCDClientAgainstEmulator(t *testing.T) {
	s, c := start(t, "s3cret")
	ctx := context.Background()

	apps, err := c.ListApps(ctx, "https://GitHub.com/acme/gitops/", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Name != "nginx-staging" {
		t.Fatalf("the repo filter (normalised URL) must return nginx-staging only, got %v", apps)
	}
	app, err := c.GetApp(ctx, argocd.App{Name: "nginx-staging"}, true)
	if err != nil || app.Status.Health.Status != "Degraded" || app.Spec.SyncPolicy.Automated == nil {
		t.Fatalf("get: %v %v", app, err)
	}
	if s.Counters()["refresh/nginx-staging"] != 1 {
		t.Fatalf("hard refresh not seen: %v", s.Counters())
	}
	res, err := c.ManagedResources(ctx, argocd.App{Name: "nginx-staging"})
	if err != nil || len(res) != 2 {
		t.Fatalf("resources: %v %v", res, err)
	}
	if !strings.Contains(res[1].LiveState, "tracking-id") {
		t.Fatalf("live resources carry Argo CD's tracking annotation: %s", res[1].LiveState)
	}
	m, err := c.Manifests(ctx, argocd.App{Name: "nginx-staging"}, "team", "more-replicas")
	if err != nil || len(m) != 2 || !strings.Contains(m[0], `"replicas":3`) || !strings.Contains(m[0], `"namespace":"web"`) {
		t.Fatalf("manifests: %v %v", m, err)
	}
	if _, err := c.Manifests(ctx, argocd.App{Name: "nginx-staging"}, "team", "unknown"); err == nil {
		t.Fatal("an unknown revision must fail")
	}
	st, err := c.Settings(ctx)
	if err != nil || st.URL != "https://argocd.example.com" || st.TrackingMethod != "annotation" {
		t.Fatalf("settings %v %v", st, err)
	}
	sets, err := c.ListAppSets(ctx)
	if err != nil || len(sets) != 1 {
		t.Fatalf("appsets %v %v", sets, err)
	}
	patched, err := c.MergePatchApp(ctx, argocd.App{Name: "nginx-staging"}, `{"spec":{"source":{"targetRevision":"more-replicas"}}}`)
	if err != nil || patched.Spec.Source.TargetRevision != "more-replicas" || s.App("nginx-staging").Spec.Source.TargetRevision != "more-replicas" {
		t.Fatalf("patch: %v %v", patched, err)
	}
	tmp := app.DeepCopy()
	tmp.Name, tmp.ResourceVersion = "temp-x", ""
	if _, err := c.CreateApp(ctx, tmp); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteApp(ctx, argocd.App{Name: "temp-x"}); err != nil || s.App("temp-x") != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.GetApp(ctx, argocd.App{Name: "temp-x"}, false); !argocd.IsNotFound(err) {
		t.Fatalf("want not found, got %v", err)
	}
	if got := s.Counters()["ApplicationService/ManagedResources"]; got != 1 {
		t.Fatalf("counters: %v", s.Counters())
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	_, c := start(t, "wrong")
	_, err := c.Settings(context.Background())
	var e *argocd.Error
	if !errors.As(err, &e) || e.Code != codes.Unauthenticated || !e.Permanent() {
		t.Fatalf("want a permanent Unauthenticated error, got %v", err)
	}
}

func TestFaultsAndHangsAreBoundedByTheCallDeadline(t *testing.T) {
	s, _ := start(t, "s3cret")
	c := argocd.New(argocd.Options{ServerAddr: s.Addr(), Token: "s3cret", PlainText: true, CallTimeout: 300 * time.Millisecond})
	defer func() { _ = c.Close() }()
	ctx := context.Background()
	if err := s.AddFault(argocdemu.Fault{Method: "SettingsService/Get", Code: "PermissionDenied"}); err != nil {
		t.Fatal(err)
	}
	var e *argocd.Error
	if _, err := c.Settings(ctx); !errors.As(err, &e) || e.Code != codes.PermissionDenied {
		t.Fatalf("want the injected fault, got %v", err)
	}
	if _, err := c.Settings(ctx); err != nil {
		t.Fatalf("the fault was for one call: %v", err)
	}
	if err := s.AddFault(argocdemu.Fault{Method: "ApplicationService/List", Code: argocdemu.FaultHang}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListApps(ctx, "", "")
	if !errors.As(err, &e) || e.Permanent() {
		t.Fatalf("a hung call ends at the deadline as a retryable error, got %v", err)
	}
}

func TestUnreachableServerIsRetryable(t *testing.T) {
	c := argocd.New(argocd.Options{ServerAddr: "127.0.0.1:1", PlainText: true, CallTimeout: time.Second})
	_, err := c.Settings(context.Background())
	var e *argocd.Error
	if !errors.As(err, &e) || e.Permanent() || !errors.Is(err, argocd.ErrUnavailable) {
		t.Fatalf("want a retryable unavailable error, got %v", err)
	}
}

func TestMainServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- argocdemu.Main(ctx, []string{"--listen", "127.0.0.1:0", "--fixture", "testdata/fixture.yaml", "--token", "t"}, out, io.Discard)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(out.String(), "Argo CD API (test server) listening on "))
	c := argocd.New(argocd.Options{ServerAddr: addr, Token: "t", PlainText: true, CallTimeout: 5 * time.Second})
	defer func() { _ = c.Close() }()
	if apps, err := c.ListApps(context.Background(), "", ""); err != nil || len(apps) != 2 {
		t.Fatalf("list: %v %v", apps, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if code := argocdemu.Main(context.Background(), []string{"--fixture", "testdata/missing.yaml"}, io.Discard, io.Discard); code != 1 {
		t.Fatalf("a missing fixture must exit 1, got %d", code)
	}
	if code := argocdemu.Main(context.Background(), []string{"extra"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("a usage error must exit 2, got %d", code)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
