package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

// `telefonistka event -t push -f FILE` runs the services once, as a GitHub
// Actions step does: the push reaches the endpoint the repository's
// webhookEndpointRegexs name, byte for byte, and the command exits 0.
func TestEventCommandForwardsAPush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every service")
	}
	got := make(chan []byte, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer receiver.Close()

	emu, err := emulator.New(emulator.Options{Tokens: map[string]string{"bot-token": "telefonistka-bot"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = emu.Close() }()
	config := fmt.Sprintf("webhookEndpointRegexs:\n  - expression: '^clusters/(prod)/'\n    replacements: ['%s/hooks/${1}']\n", receiver.URL)
	if err := emu.CreateRepo("acme", "gitops", map[string]string{"telefonistka.yaml": config}); err != nil {
		t.Fatal(err)
	}
	head, err := emu.GetCommit("acme/gitops", "main")
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"%040d","after":%q,`+
		`"repository":{"name":"gitops","full_name":"acme/gitops","owner":{"login":"acme","name":"acme"},"default_branch":"main"},`+
		`"commits":[{"id":%q,"added":[],"removed":[],"modified":["clusters/prod/nginx/values.yaml"]}]}`, 0, head.SHA, head.SHA))
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_URL", emu.URL())
	t.Setenv("GITHUB_OAUTH_TOKEN", "bot-token")
	t.Setenv("LOG_LEVEL", "error")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"event", "-t", "push", "-f", file}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, payload) {
			t.Fatalf("endpoint got %q, want the event file verbatim", b)
		}
	default:
		t.Fatal("the command returned before the push was forwarded")
	}
}
