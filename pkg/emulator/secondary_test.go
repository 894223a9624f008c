package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

func TestSecondaryLimitRefusesWritesOverTheWindow(t *testing.T) {
	e, client := newRepoEmulator(t, emulator.Options{})
	e.SetSecondaryLimit(3, time.Hour)
	ctx := context.Background()
	for i := range 3 {
		if err := createTree(client); err != nil {
			t.Fatalf("write %d within the limit: %v", i+1, err)
		}
	}
	// Reads are not limited.
	if _, _, err := client.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Fatalf("read over the write limit: %v", err)
	}
	err := createTree(client)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter < 59*time.Minute {
		t.Fatalf("fourth write = %v, want a secondary rate limit with Retry-After about an hour", err)
	}
	if got := e.SecondaryLimited(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
	if got := e.MostWritesInWindow(); got["user:telefonistka-bot"] != 3 || len(got) != 1 {
		t.Errorf("most writes in a window = %v, want 3 for user:telefonistka-bot", got)
	}

	// Another identity has its own window.
	other := clientFor(t, e.URL(), aliceToken)
	if err := createTree(other); err != nil {
		t.Fatalf("another identity's write: %v", err)
	}

	// Over HTTP: the figures, then the limit turned off.
	var figures struct {
		PerWindow    int            `json:"per_window"`
		MostInWindow map[string]int `json:"most_in_window"`
		Limited      int64          `json:"secondary_limited"`
	}
	_ = json.NewDecoder(controlCall(t, e, "GET", "/_emulator/writes", nil).Body).Decode(&figures)
	if figures.PerWindow != 3 || figures.Limited != 1 || figures.MostInWindow["user:telefonistka-bot"] != 3 {
		t.Errorf("GET /_emulator/writes = %+v", figures)
	}
	if resp := controlCall(t, e, "PUT", "/_emulator/secondary-limit", map[string]int{"per_window": -1}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("negative limit = %d, want 400", resp.StatusCode)
	}
	controlCall(t, e, "PUT", "/_emulator/secondary-limit", map[string]int{"per_window": 0})
	// (a new client: go-github itself holds back after a Retry-After)
	if err := createTree(clientFor(t, e.URL(), botToken)); err != nil {
		t.Fatalf("write with the limit off: %v", err)
	}
	if got := e.MostWritesInWindow()["user:telefonistka-bot"]; got != 4 {
		t.Errorf("writes are still followed with the limit off: most %d, want 4", got)
	}
	e.ResetCounters()
	if len(e.MostWritesInWindow()) != 0 || e.SecondaryLimited() != 0 {
		t.Error("ResetCounters kept the write figures")
	}
}
