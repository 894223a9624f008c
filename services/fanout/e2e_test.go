package fanout

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Pushes made in the GitHub emulator reach the endpoints: the emulator's
// signed push webhook goes through an ingress stand-in to the GITHUB
// stream, fan-out reads telefonistka.yaml at the pushed commit from the
// emulator and forwards the webhook as the emulator sent it.
func TestPushesFromTheEmulatorReachTheEndpoints(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	url, stored := h.ingress()
	h.gh.emu.SetWebhook(url, testSecret)
	cfg := fmt.Sprintf("webhookEndpointRegexs:\n  - expression: '^clusters/([^/]+)/'\n    replacements: ['%s/argocd/${1}']\n", rc.srv.URL)

	first, err := h.gh.emu.Push(repo.String(), "main", "octocat", "configure fan-out and change eu",
		map[string]*string{"telefonistka.yaml": emulator.Content(cfg), "clusters/eu/app.yaml": emulator.Content("replicas: 2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.gh.emu.Push(repo.String(), "feature", "octocat", "not on the default branch",
		map[string]*string{"clusters/us/app.yaml": emulator.Content("replicas: 3\n")}); err != nil {
		t.Fatal(err)
	}
	second, err := h.gh.emu.Push(repo.String(), "main", "octocat", "remove us, change ap",
		map[string]*string{"clusters/ap/app.yaml": emulator.Content("replicas: 1\n"), "README.md": nil})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.gh.emu.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}

	h.waitEvents(events.TypeFanoutDelivered, 2, 20*time.Second)
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	if got := rc.paths(); len(got) != 2 || got["/argocd/eu"] != 1 || got["/argocd/ap"] != 1 {
		t.Fatalf("endpoint calls %v, want /argocd/eu and /argocd/ap once each", got)
	}
	byDelivery := map[string]call{}
	for _, c := range stored() {
		byDelivery[c.Header.Get("X-GitHub-Delivery")] = c
	}
	for _, path := range []string{"/argocd/eu", "/argocd/ap"} {
		c := rc.callsTo(path)[0]
		orig, ok := byDelivery[c.Header.Get("X-GitHub-Delivery")]
		if !ok {
			t.Fatalf("%s: delivery %q was not sent by the emulator", path, c.Header.Get("X-GitHub-Delivery"))
		}
		if !bytes.Equal(c.Body, orig.Body) || !verifies(c.Header, c.Body) {
			t.Errorf("%s: body differs from the emulator's or signature does not verify", path)
		}
		if c.Header.Get("User-Agent") != orig.Header.Get("User-Agent") || c.Header.Get("X-GitHub-Hook-ID") != orig.Header.Get("X-GitHub-Hook-ID") {
			t.Errorf("%s: headers differ: %v vs %v", path, c.Header, orig.Header)
		}
	}
	// One configuration read per pushed commit of the default branch.
	if n := h.configReads(); n != 2 {
		t.Errorf("configuration read %d times for commits %s and %s, want 2", n, first, second)
	}
}
