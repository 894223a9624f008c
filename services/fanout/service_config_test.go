package fanout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// A push handled twice (GitHub redelivered it and ingress stored it again)
// forwards once within the duplicate window, and the configuration of a
// commit is read once.
func TestRepeatedPushForwardsOnceAndReadsConfigOnce(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/hook']}]", rc.srv.URL))
	body := pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil))
	headers := map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
	h.deliverEnvelope("env-1", "d-again", headers, body)
	seq := h.deliverEnvelope("env-2", "d-again", headers, body)
	// A different delivery of the same commit reuses the cached configuration.
	seq2 := h.deliver("d-other", body, nil)
	h.waitIdle(events.StreamGitHub, PushConsumer, max(seq, seq2))
	h.waitEvents(events.TypeFanoutDelivered, 2, 20*time.Second)
	h.waitIdle(events.StreamFanout, DeliverConsumer, 0)
	if n := len(rc.callsTo("/hook")); n != 2 {
		t.Fatalf("endpoint called %d times for two distinct deliveries (one of them stored twice), want 2", n)
	}
	if n := h.configReads(); n != 1 {
		t.Fatalf("configuration read %d times for one commit, want 1", n)
	}
}

// A missing telefonistka.yaml forwards nothing, silently; a broken
// webhookEndpointRegexs, or a directory named telefonistka.yaml, is
// dead-lettered at once with what is wrong; a mistake elsewhere in the file
// does not stop fan-out.
func TestRepositoryConfiguration(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	dead := make(chan *events.ConsumerFailed, 4)
	sub, err := h.conn.NC.Subscribe(events.DeadLetterSubject(PushConsumer, &repo), func(m *nats.Msg) {
		env, err := events.Decode(m.Data)
		if err == nil {
			dead <- decode[events.ConsumerFailed](t, env)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = h.conn.NC.Flush()

	broken := h.config("webhookEndpointRegexs:\n  - expression: '(['\n    replacements: ['https://x.example.com/']\n")
	otherMistake := h.config(fmt.Sprintf("promotionPaths:\n  - sourcePath: '/abs/'\nwebhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/hook']}]\n", rc.srv.URL))
	f := files([]string{"a/x"}, nil, nil)

	seq := h.deliver("d-missing", pushBody("refs/heads/main", "main", h.initial, f), nil)
	h.waitIdle(events.StreamGitHub, PushConsumer, seq)
	if n := h.jobCount(); n != 0 {
		t.Fatalf("%d jobs without a configuration file", n)
	}

	h.deliver("d-broken", pushBody("refs/heads/main", "main", broken, f), nil)
	select {
	case rec := <-dead:
		want := "telefonistka.yaml:2:17: webhookEndpointRegexs[0].expression: invalid regular expression"
		if rec.Reason != events.FailedPermanent || !strings.Contains(rec.Error, want) || rec.Deliveries != 1 {
			t.Fatalf("dead letter %+v, want a permanent failure naming %q", rec, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("broken configuration was not dead-lettered")
	}

	dir, err := h.gh.emu.Push(repo.String(), "config-dir", "octocat", "a directory of that name",
		map[string]*string{"telefonistka.yaml/values.yaml": emulator.Content("a: 1\n")})
	if err != nil {
		t.Fatal(err)
	}
	h.deliver("d-dir", pushBody("refs/heads/main", "main", dir, f), nil)
	select {
	case rec := <-dead:
		want := "telefonistka.yaml of acme/gitops at " + dir + " is a directory, not a file"
		if rec.Reason != events.FailedPermanent || !strings.Contains(rec.Error, want) || rec.Deliveries != 1 {
			t.Fatalf("dead letter %+v, want a permanent failure at the first delivery saying %q", rec, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a directory named telefonistka.yaml was not dead-lettered")
	}

	h.deliver("d-other-mistake", pushBody("refs/heads/main", "main", otherMistake, f), nil)
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
	if n := len(rc.callsTo("/hook")); n != 1 {
		t.Fatalf("endpoint called %d times, want 1", n)
	}
}

// Large bodies are forwarded intact, up to GitHub's 25 MiB maximum: ingress
// keeps bodies over events.InlineBodyLimit in the object store.
func TestForwardsLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 25 MiB through JetStream")
	}
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%[1]s/one', '%[1]s/two']}]", rc.srv.URL))
	body := pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil))
	const size = 25 << 20
	pad := bytes.Repeat([]byte("p"), size-len(body)-len(`,"padding":""`))
	body = append(append(append(body[:len(body)-1:len(body)-1], []byte(`,"padding":"`)...), pad...), []byte(`"}`)...)
	if len(body) != size {
		t.Fatalf("body is %d bytes, want %d", len(body), size)
	}
	h.deliver("d-large", body, nil)
	h.waitEvents(events.TypeFanoutDelivered, 2, 60*time.Second)
	want := sha256.Sum256(body)
	for _, p := range []string{"/one", "/two"} {
		calls := rc.callsTo(p)
		if len(calls) != 1 || sha256.Sum256(calls[0].Body) != want || !verifies(calls[0].Header, calls[0].Body) {
			t.Fatalf("%s: %d calls, body intact and signed: %v", p, len(calls), len(calls) == 1 && sha256.Sum256(calls[0].Body) == want)
		}
	}
}

// TLS verification is skipped only with whProxtSkipTLSVerifyUpstream.
func TestTLSVerificationFollowsTheRepositorySetting(t *testing.T) {
	cfg := testConfig()
	cfg.MaxAttempts = 1
	h := start(t, cfg)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	rules := fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/hook']}]\n", tlsSrv.URL)
	skip := h.config(rules + "whProxtSkipTLSVerifyUpstream: true\n")
	verify := h.config(rules)
	f := files([]string{"a/x"}, nil, nil)

	h.deliver("d-verify", pushBody("refs/heads/main", "main", verify, f), nil)
	failed := decode[events.FanoutFailed](t, h.waitEvents(events.TypeFanoutFailed, 1, 20*time.Second)[0])
	if !strings.Contains(failed.Error, "certificate") || failed.StatusCode != 0 {
		t.Fatalf("untrusted certificate: %+v", failed)
	}
	if h.counter("error", tlsSrv.URL+"/hook") != 1 {
		t.Fatal("failed TLS handshake not counted as status=error")
	}
	h.deliver("d-skip", pushBody("refs/heads/main", "main", skip, f), nil)
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
}

// A form-encoded push (a GitHub hook with content type "form") is
// understood and forwarded as it came.
func TestFormEncodedPush(t *testing.T) {
	h := start(t, testConfig())
	rc := newReceiver(t, nil)
	sha := h.config(fmt.Sprintf("webhookEndpointRegexs: [{expression: '^a/', replacements: ['%s/form']}]", rc.srv.URL))
	payload := pushBody("refs/heads/main", "main", sha, files([]string{"a/x"}, nil, nil))
	body := []byte("payload=" + url.QueryEscape(string(payload)))
	h.deliver("d-form", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	h.waitEvents(events.TypeFanoutDelivered, 1, 20*time.Second)
	c := rc.callsTo("/form")[0]
	if !bytes.Equal(c.Body, body) || c.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || !verifies(c.Header, c.Body) {
		t.Fatalf("form body forwarded as %q with %q", c.Body, c.Header.Get("Content-Type"))
	}
}

// A job whose original delivery is gone fails with delivery_gone instead
// of retrying for ever.
func TestJobWithoutItsDeliveryFails(t *testing.T) {
	h := start(t, testConfig())
	r := repo
	env, err := events.New(events.Meta{ID: "job-orphan", Source: "test", CorrelationID: "d-orphan", Repo: &r},
		&events.FanoutRequested{DeliveryID: "d-orphan", URL: "http://127.0.0.1:1/never", DeliveryStream: events.StreamGitHub,
			DeliverySequence: 999, Commit: someSHA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.srvPublisher().Publish(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	f := decode[events.FanoutFailed](t, h.waitEvents(events.TypeFanoutFailed, 1, 20*time.Second)[0])
	if f.Reason != events.FanoutFailedDeliveryGone || f.URL != "http://127.0.0.1:1/never" {
		t.Fatalf("failure %+v", f)
	}
}
