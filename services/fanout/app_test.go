package fanout

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
)

// The Builder runs under pkg/app with its configuration from the
// environment, reading telefonistka.yaml through the process's GitHub
// client factory.
func TestBuilderRunsUnderApp(t *testing.T) {
	srv := bustest.Start(t)
	gh := newGitHub(t)
	gh.emu.AddToken("test-token", "telefonistka-bot")
	h := &harness{t: t, srv: srv, conn: srv.Connect(), gh: gh}
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/app']}]", rc.srv.URL))
	t.Setenv("GITHUB_OAUTH_TOKEN", "test-token")
	t.Setenv("GITHUB_URL", gh.emu.URL())
	t.Setenv("FANOUT_CONCURRENCY", "3")
	t.Setenv("FANOUT_TIMEOUT", "2s")
	t.Setenv("FANOUT_ALLOW_LOCAL_ADDRESSES", "true") // the receiver is on loopback

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Config{NATSURL: srv.URL(), ListenAddress: "127.0.0.1:0", EventTimeout: time.Minute,
			ShutdownTimeout: 10 * time.Second, DuplicateWindow: time.Minute}, app.RunOptions{LogOutput: io.Discard}, Builder)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app.Run: %v", err)
		}
	}()
	h.deliver("d-app", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)
	deadline := time.Now().Add(20 * time.Second)
	for len(rc.callsTo("/app")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("endpoint not called")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
