package state

import (
	"context"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
)

// FuzzFromDelivery feeds pull_request bodies to the projection: any body
// gives facts or an error, never a panic, and its facts merge the same
// whatever the order (applying them twice changes nothing).
func FuzzFromDelivery(f *testing.F) {
	w := scenario.NewWriter()
	w.PullRequest("closed", 7, "Bump", "alice", "closed", "m7", "promotion")
	var d events.GitHubDelivery
	if err := w.Events[0].DecodeData(&d); err != nil {
		f.Fatal(err)
	}
	f.Add(d.Body)
	f.Add([]byte(`{"pull_request":{"number":1,"state":"open","merged_at":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"pull_request":{"number":-3,"labels":[{"name":null}],"user":null}}`))
	f.Add([]byte(`[]`))
	repo := events.Repo{Owner: "acme", Name: "gitops"}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := events.New(events.Meta{ID: "d", Source: "ingress", Repo: &repo, Time: time.Unix(0, 0)},
			&events.GitHubDelivery{DeliveryID: "d", Event: "pull_request", Action: "closed",
				Headers: map[string]string{"Content-Type": "application/json"}, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		facts, err := FromEvent(env)
		if err != nil {
			return
		}
		m := NewMem()
		for range 2 {
			if err := m.Tables().Apply(context.Background(), facts); err != nil {
				t.Fatal(err)
			}
		}
		once := NewMem()
		if err := once.Tables().Apply(context.Background(), facts); err != nil {
			t.Fatal(err)
		}
		if snapshot(t, m) != snapshot(t, once) {
			t.Errorf("applying the facts of %q twice changed the state", body)
		}
	})
}
