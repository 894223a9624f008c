package ingress

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// discardStore stores nothing: the benchmark measures the handler alone.
type discardStore struct{}

func (discardStore) Seen(context.Context, string) (bool, error) { return false, nil }
func (discardStore) Store(context.Context, string, *events.Envelope) (bool, error) {
	return false, nil
}
func (discardStore) Remember(context.Context, string) error { return nil }
func (discardStore) PutBody(context.Context, string, []byte) (*events.BodyRef, error) {
	return nil, nil
}

// benchPush is a push payload of about 4.7 KB, the size of the load
// generator's (twelve commits of two files each).
func benchPush() string {
	var commits []string
	for i := 1; i <= 12; i++ {
		commits = append(commits, fmt.Sprintf(`{"id": "%040x", "message": "Bump nginx to 1.27.%d", "timestamp": "2026-11-21T10:00:00Z", `+
			`"author": {"name": "Alice", "email": "alice@example.com", "username": "alice"}, "added": [], "removed": [], `+
			`"modified": ["clusters/prod/eu-1/nginx/values.yaml", "clusters/prod/us-1/nginx/values.yaml"]}`, i, i))
	}
	return `{"ref": "refs/heads/main", "before": "` + strings.Repeat("a", 40) + `", "after": "` + strings.Repeat("b", 40) + `", ` +
		`"created": false, "deleted": false, "forced": false, "repository": {"id": 1, "name": "gitops", "full_name": "acme/gitops", ` +
		`"owner": {"login": "acme", "name": "acme"}, "default_branch": "main"}, "pusher": {"name": "alice"}, "sender": {"login": "alice"}, ` +
		`"commits": [` + strings.Join(commits, ", ") + `], "head_commit": ` + commits[11] + `}`
}

// BenchmarkWebhook is the CPU ingress spends on one push delivery, from the
// request to the envelope handed to the store.
func BenchmarkWebhook(b *testing.B) {
	svc, _ := newTestService(b, discardStore{}, 1<<20)
	body := benchPush()
	sig := Sign([]byte(secret), []byte(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-GitHub-Event", "push")
		r.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
		r.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		svc.handler.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	svc.handler.remembering.Wait()
}
