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
	t.Setenv("FANOUT_ALLOW_LOCAL_ADDRESSES", "true") // the receiver is on loopback
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

// GitHub Actions mode: the workflow's GITHUB_TOKEN is an installation token,
// which GitHub refuses on GET /user. A /retrigger comment (whose handling
// looks up the bot's login to ignore its own comments and to hide its old
// ones) still runs the drift check, and the status and comment are the
// github-actions bot's.
func TestEventCommandWithAnInstallationToken(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every service")
	}
	hooks := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer hooks.Close()
	emu, err := emulator.New(emulator.Options{Apps: []emulator.App{{ID: 15368, Slug: "github-actions"}},
		Tokens: map[string]string{"alice-token": "alice"}, WebhookURL: hooks.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = emu.Close() }()
	if err := emu.CreateRepo("acme", "gitops", map[string]string{
		"telefonistka.yaml":             "promotionPaths:\n  - sourcePath: env/staging/\n    promotionPrs:\n      - targetPaths: [env/prod/]\n",
		"env/staging/nginx/values.yaml": "image: nginx:1.25\n",
		"env/prod/nginx/values.yaml":    "image: nginx:1.24\n",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Push("acme/gitops", "bump", "alice", "bump", map[string]*string{
		"env/staging/nginx/values.yaml": emulator.Content("image: nginx:1.26\n")}); err != nil {
		t.Fatal(err)
	}
	pr, err := emu.OpenPullRequest("acme/gitops", emulator.PullRequestSpec{Author: "alice", Title: "Bump", Head: "bump"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Comment("acme/gitops", pr, "alice", "/retrigger"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := emu.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	var payload []byte
	for _, d := range emu.Deliveries() {
		if d.Event == "issue_comment" {
			payload = d.Payload
		}
	}
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	token, err := emu.InstallationToken(15368, "acme")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_URL", emu.URL())
	t.Setenv("GITHUB_OAUTH_TOKEN", token)
	t.Setenv("LOG_LEVEL", "error")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"event", "-t", "issue_comment", "-f", file}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := emu.GetPullRequest("acme/gitops", pr)
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := emu.Statuses("acme/gitops", got.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	final := ""
	for _, st := range statuses {
		if st.Context == "telefonistka" { // oldest first
			final = st.State + " by " + st.Creator
		}
	}
	if final != "success by github-actions[bot]" {
		t.Errorf("newest telefonistka status = %q, want success by github-actions[bot]", final)
	}
}
