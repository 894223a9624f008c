package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/ingress"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs `telefonistka server --only ingress` in-process and
// returns its base URL and a stop function.
func startServer(t *testing.T, dataDir string, port int) (string, func()) {
	t.Helper()
	t.Setenv("GITHUB_WEBHOOK_SECRET", "s3cret")
	t.Setenv("TELEFONISTKA_DATA_DIR", dataDir)
	t.Setenv("LISTEN_ADDRESS", fmt.Sprintf("127.0.0.1:%d", port))
	t.Setenv("LOG_LEVEL", "error")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, []string{"server", "--only", "ingress"}, io.Discard, &stderr) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("server exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v; %s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return base, func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("server exit code %d: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	}
}

func postDelivery(t *testing.T, base, id string) int {
	t.Helper()
	body := `{"action":"opened","number":1,"pull_request":{"number":1},"repository":{"name":"gitops","owner":{"login":"acme"}}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", ingress.Sign([]byte("s3cret"), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A delivery the all-in-one server accepted survives a restart and is
// stored once, whether it answers once JetStream holds a delivery or once
// its spool does (the default on the embedded NATS); a redelivery of it is
// not stored again.
func TestServerEndpointsAndRestartKeepsDeliveries(t *testing.T) {
	for _, answerAfter := range []string{"jetstream", ""} {
		name := answerAfter
		if name == "" {
			name = "spool (default)"
		}
		t.Run(name, func(t *testing.T) {
			t.Setenv("INGRESS_ANSWER_AFTER", answerAfter)
			natsPort := freePort(t)
			t.Setenv("TELEFONISTKA_NATS_LISTEN", fmt.Sprintf("127.0.0.1:%d", natsPort))
			dir := t.TempDir()
			port := freePort(t)
			base, stop := startServer(t, dir, port)
			for _, path := range []string{"/healthz", "/live", "/readyz", "/ready"} {
				if code, _ := get(t, base+path); code != 200 {
					t.Errorf("%s: %d", path, code)
				}
			}
			if code := postDelivery(t, base, "delivery-1"); code != 202 {
				t.Fatalf("first delivery: %d", code)
			}
			code, metrics := get(t, base+"/metrics")
			if code != 200 || !strings.Contains(metrics, `telefonistka_webhook_server_webhook_hits_total{parsing="successful"} 1`) ||
				!strings.Contains(metrics, "go_goroutines") {
				t.Fatalf("metrics (%d) lack the webhook counter or Go collector:\n%s", code, metrics)
			}
			stop()

			base, stop = startServer(t, dir, port)
			defer stop()
			want := 200 // known: already received
			if answerAfter == "" {
				want = 202 // spooled; the drain finds it known
			}
			if code := postDelivery(t, base, "delivery-1"); code != want {
				t.Fatalf("delivery stored before the restart answered %d, want %d", code, want)
			}
			if code := postDelivery(t, base, "delivery-2"); code != 202 {
				t.Fatalf("new delivery after restart: %d", code)
			}
			ids := streamIDs(t, fmt.Sprintf("nats://127.0.0.1:%d", natsPort), 2)
			if strings.Join(ids, ",") != "delivery-1,delivery-2" {
				t.Fatalf("GITHUB stream holds %v, want delivery-1 and delivery-2 once each", ids)
			}
		})
	}
}

// streamIDs waits (up to 10 s) for the GITHUB stream to hold n messages,
// then a moment for any more, and returns their event ids in order.
func streamIDs(t *testing.T, url string, n int) []string {
	t.Helper()
	conn, err := bus.Connect(bus.ConnOptions{URL: url, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, err := conn.JS.Stream(ctx, events.StreamGitHub)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= uint64(n) || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(300 * time.Millisecond)
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		env, err := events.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, env.ID)
	}
	return ids
}

func TestUsageErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(context.Background(), []string{"serve"}, &out, &errb); code != 2 {
		t.Errorf("serve without a name: exit %d", code)
	}
	if code := run(context.Background(), []string{"server", "--only", "nope"}, &out, &errb); code != 2 {
		t.Errorf("unknown service: exit %d", code)
	}
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "telefonistka ") {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

func TestServerRefusesWithoutSecret(t *testing.T) {
	t.Setenv("GITHUB_WEBHOOK_SECRET", "")
	t.Setenv("TELEFONISTKA_DATA_DIR", t.TempDir())
	t.Setenv("LISTEN_ADDRESS", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"server", "--only", "ingress"}, io.Discard, &errb); code != 1 ||
		!strings.Contains(errb.String(), "GITHUB_WEBHOOK_SECRET is required") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestServeNeedsExternalNATS(t *testing.T) {
	t.Setenv("NATS_URL", "")
	t.Setenv("GITHUB_WEBHOOK_SECRET", "s")
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "ingress"}, io.Discard, &errb); code != 1 ||
		!strings.Contains(errb.String(), "NATS_URL is required") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
