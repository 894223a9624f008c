package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
)

const bot = "telefonistka-bot"

// harness runs the tracker on an embedded JetStream against the GitHub
// emulator holding acme/gitops.
type harness struct {
	t       testing.TB
	srv     *bustest.Server
	conn    *bus.Conn
	emu     *emulator.Emulator
	factory *githubapi.Factory
	cfg     Config
	svc     *Service
	cancel  context.CancelFunc
	done    chan error
	reg     *prometheus.Registry
	// published counts the events published to the streams the tracker
	// sources.
	published int
	// patience bounds each wait (default 20s).
	patience time.Duration
	health   *bus.Health
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB) *harness {
	t.Helper()
	emu, err := emulator.New(emulator.Options{DefaultLogin: bot})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	if err := emu.CreateRepo(scenario.Repo.Owner, scenario.Repo.Name, map[string]string{"README.md": "GitOps\n"}); err != nil {
		t.Fatal(err)
	}
	f, err := githubapi.NewFactory(githubapi.Config{OAuthToken: "any", URL: emu.URL()}, githubapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := bustest.Start(t)
	cfg := Config{Retention: 24 * time.Hour, Comments: true, CommentDelay: 20 * time.Millisecond, CommentMaxAge: 0,
		Concurrency: 4, PublicURL: "https://telefonistka.example.com/tracker"}
	return &harness{t: t, srv: srv, conn: srv.Connect(), emu: emu, factory: f, cfg: cfg}
}

// issues opens issues until the repository's next number is n, so the
// scenario's PR numbers exist for comments.
func (h *harness) issues(n int) {
	h.t.Helper()
	for {
		got, err := h.emu.CreateIssue(scenario.Repo.String(), "alice", "change", "")
		if err != nil {
			h.t.Fatal(err)
		}
		if got >= n {
			return
		}
	}
}

// start builds and runs the tracker.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.reg = prometheus.NewRegistry()
	h.health = &bus.Health{}
	d := Deps{Config: h.cfg, Conn: h.conn, Registry: h.reg, Log: quietLog(), Health: h.health}
	if h.factory != nil {
		d.GitHub, d.BotLogin = githubapi.NewGitHub(h.factory, nil), h.factory.BotLogin
	}
	svc, err := NewService(ctx, d)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.svc, h.cancel, h.done = svc, cancel, make(chan error, 1)
	go func() { h.done <- svc.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop stops the tracker (idempotent).
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("tracker stopped with %v", err)
	}
	h.cancel = nil
}

// publish stores events on their streams, as the other services do.
func (h *harness) publish(evs ...*events.Envelope) {
	h.t.Helper()
	pub := h.conn.Publisher()
	for _, env := range evs {
		if _, err := pub.Publish(context.Background(), env); err != nil {
			h.t.Fatal(err)
		}
		h.published++
	}
}

// settle waits until the tracker has projected every published event and
// the model shows every record, then until the comment writer has nothing
// left to do.
func (h *harness) settle() {
	h.t.Helper()
	h.eventually("every event projected", func() bool {
		ctx := context.Background()
		st, err := h.conn.JS.Stream(ctx, events.StreamTracker)
		if err != nil {
			return false
		}
		if info, err := st.Info(ctx); err != nil || info.State.Msgs != uint64(h.published) {
			return false
		}
		c, err := h.conn.JS.Consumer(ctx, events.StreamTracker, consumerName)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream >= uint64(h.published)
	})
	h.eventually("the model shows every record", func() bool { return h.modelCurrent() })
	if h.svc.comments != nil {
		h.eventually("every comment written", h.svc.comments.idle)
	}
}

// modelCurrent reports whether the model has seen the bucket's last
// revision.
func (h *harness) modelCurrent() bool {
	st, err := h.conn.JS.Stream(context.Background(), "KV_"+events.BucketTracker)
	if err != nil {
		return false
	}
	info, err := st.Info(context.Background())
	return err == nil && h.svc.model.Revision() == info.State.LastSeq
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	patience := h.patience
	if patience == 0 {
		patience = 20 * time.Second
	}
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// snapshot is every record of the tracker bucket, by key.
func (h *harness) snapshot() map[string]string {
	h.t.Helper()
	ctx := context.Background()
	kv, err := h.conn.JS.KeyValue(ctx, events.BucketTracker)
	if err != nil {
		h.t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]string{}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		out[k] = string(e.Value())
	}
	return out
}

// get serves a request through the tracker's routes.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	r := chi.NewRouter()
	h.svc.Routes(r)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func (h *harness) getJSON(path string, v any) {
	h.t.Helper()
	code, body := h.get(path)
	if code != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		h.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// comments are the bot's tracker comments on a PR that are not
// minimised.
func (h *harness) comments(n int) []emulator.Comment {
	h.t.Helper()
	all, err := h.emu.Comments(scenario.Repo.String(), n)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []emulator.Comment
	for _, c := range all {
		if githubapi.IsTrackerComment(c.Body) && c.Author == bot && !c.Minimized {
			out = append(out, c)
		}
	}
	return out
}

// deleteComment deletes a comment through the REST API, as a person would.
func (h *harness) deleteComment(id int64) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodDelete, fmt.Sprintf("%srepos/%s/issues/comments/%d", h.emu.URL(), scenario.Repo, id), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
