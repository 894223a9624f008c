package fanout

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// syncBuffer is a bytes.Buffer safe for the service's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// An endpoint URL with user info and a query token is called as configured,
// but the logs, the metric labels and the outcome events never show the
// secrets.
func TestURLSecretsStayOutOfLogsMetricsAndEvents(t *testing.T) {
	var logs syncBuffer
	h := startLogging(t, testConfig(), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	rc := newReceiver(t, nil)
	withSecrets := strings.Replace(rc.srv.URL, "http://", "http://hook-user:pa55word@", 1) + "/hook?token=t0ken&team=a"
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s', '%s']}]",
		withSecrets, "http://rejected-user:pa55word@/?token=t0ken"))
	h.deliver("d-secret", pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil)), nil)
	var delivered, rejected *events.Envelope
	for delivered == nil || rejected == nil {
		select {
		case env := <-h.events:
			switch env.Type {
			case events.TypeFanoutDelivered:
				delivered = env
			case events.TypeFanoutRejected:
				rejected = env
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no fanout.delivered and fanout.rejected events:\n%s", logs.String())
		}
	}
	if got := decode[events.FanoutRejected](t, rejected).URL; strings.Contains(got, "pa55word") || strings.Contains(got, "t0ken") {
		t.Errorf("fanout.rejected URL = %q shows a secret", got)
	}
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)

	calls := rc.callsTo("/hook")
	if len(calls) != 1 || calls[0].Header.Get("Authorization") == "" {
		t.Fatalf("the endpoint was not called with the URL's user info: %d calls", len(calls))
	}
	shown := rc.srv.URL + "/hook?team=REDACTED&token=REDACTED"
	if got := decode[events.FanoutDelivered](t, delivered).URL; got != shown {
		t.Errorf("fanout.delivered URL = %q, want %q", got, shown)
	}
	if h.counter("200", shown) != 1 {
		t.Errorf("no attempt counted under the redacted URL %q", shown)
	}
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if s := f.String(); strings.Contains(s, "pa55word") || strings.Contains(s, "t0ken") || strings.Contains(s, "hook-user") {
			t.Errorf("metric %s shows a URL secret: %s", f.GetName(), s)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "push forwarded") {
		t.Fatalf("no forwarding logged:\n%s", out)
	}
	for _, secret := range []string{"pa55word", "t0ken", "hook-user", "rejected-user"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
}
