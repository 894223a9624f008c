package githubapi

import (
	"testing"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/events"
)

func deliveryEnvelope(t *testing.T, event, body string) *events.Envelope {
	t.Helper()
	r := testRepo
	env, err := events.New(events.Meta{ID: "d1", Source: "test", Repo: &r},
		&events.GitHubDelivery{DeliveryID: "d1", Event: event, Headers: map[string]string{"Content-Type": "application/json"}, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestParseDelivery(t *testing.T) {
	env := deliveryEnvelope(t, "pull_request",
		`{"action":"opened","number":7,"repository":{"name":"gitops","owner":{"login":"acme"}},"pull_request":{"number":7}}`)
	d, ev, err := ParseDelivery(env)
	if err != nil {
		t.Fatal(err)
	}
	pr, ok := ev.(*github.PullRequestEvent)
	if !ok || d.DeliveryID != "d1" || pr.GetNumber() != 7 || RepoOf(pr.GetRepo()) != testRepo {
		t.Fatalf("delivery %+v, event %#v", d, ev)
	}
	// An older payload names the owner without a login.
	if got := RepoOf(&github.Repository{Name: github.String("gitops"), Owner: &github.User{Name: github.String("acme")}}); got != testRepo {
		t.Errorf("RepoOf = %v", got)
	}
	if _, _, err := ParseDelivery(deliveryEnvelope(t, "pull_request", `{"action":`)); err == nil || !isPermanent(err) {
		t.Errorf("a broken payload: %v, want a permanent error", err)
	}
}

func TestSameLogin(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"telefonistka[bot]", "telefonistka", true},
		{"Telefonistka", "telefonistka[bot]", true},
		{"telefonistka-bot", "telefonistka", false},
	} {
		if got := SameLogin(c.a, c.b); got != c.same {
			t.Errorf("SameLogin(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
