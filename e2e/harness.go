package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/obs"
	"github.com/telefonistka/telefonistka/services/argodiff"
	"github.com/telefonistka/telefonistka/services/drift"
	"github.com/telefonistka/telefonistka/services/fanout"
	"github.com/telefonistka/telefonistka/services/ingress"
	"github.com/telefonistka/telefonistka/services/planner"
	"github.com/telefonistka/telefonistka/services/promoter"
)

// Identities the harness configures in the emulator (test credentials of
// an in-process emulator, not secrets).
const (
	Secret        = "e2e-webhook-secret" //nolint:gosec // a test emulator's secret
	BotToken      = "e2e-bot-token"      //nolint:gosec // a test emulator's token
	BotLogin      = "telefonistka-bot"
	ApproverToken = "e2e-approver-token" //nolint:gosec // a test emulator's token
	ApproverLogin = "telefonistka-approver"
	// Human is the person who makes changes, opens and merges PRs.
	Human = "alice"
)

// Builders are the services the harness can run, by name.
var Builders = map[string]app.Builder{
	"ingress": ingress.Builder, "planner": planner.Builder, "promoter": promoter.Builder,
	"drift": drift.Builder, "argodiff": argodiff.Builder, "fanout": fanout.Builder,
}

// Options configure a Harness. The zero value runs ingress, planner and
// promoter against acme/gitops seeded from examples/gitops-repo.
type Options struct {
	Owner, Name string
	// RepoDir seeds the repository (default: the repo's examples/gitops-repo);
	// RepoFiles, when set, seeds it instead.
	RepoDir   string
	RepoFiles map[string]string
	// Services to start, in order (default ingress, planner, promoter).
	Services []string
	// Env is extra environment for the services (set with t.Setenv).
	Env map[string]string
	// Approver configures APPROVER_GITHUB_OAUTH_TOKEN.
	Approver bool
	// EventTimeout is EVENT_TIMEOUT of every service (default 2m).
	EventTimeout time.Duration
}

// Harness runs Telefonistka's services in this process, each with its own
// app.Run (so each can be stopped, killed and restarted alone), on an
// embedded JetStream in a temporary directory, against the GitHub emulator,
// whose signed webhooks go to ingress. It records every PROMOTION event.
//
// Tests using it must not run in parallel (it sets environment variables).
// Set E2E_LOG=1 to see the services' logs.
type Harness struct {
	T testing.TB
	// GitHub is the emulator; use its Go API to act as people and inspect.
	GitHub *emulator.Emulator
	NATS   *bustest.Server
	// Conn is a client connection of the test's own.
	Conn *bus.Conn
	// Repo is "owner/name".
	Repo  string
	Owner string
	Name  string

	opts       Options
	logOut     io.Writer
	mu         sync.Mutex
	running    map[string]*runningService
	webhookURL string
	Recorder   *Recorder
	// promiseChecked: the test checked the promotion promise itself.
	promiseChecked bool
}

type runningService struct {
	cancel context.CancelFunc
	done   chan error
}

// Start starts the emulator, NATS, the event recorder and the services.
// Everything is stopped when the test ends.
func Start(t testing.TB, opts Options) *Harness {
	t.Helper()
	if opts.Owner == "" {
		opts.Owner, opts.Name = "acme", "gitops"
	}
	if len(opts.Services) == 0 {
		opts.Services = []string{"planner", "promoter", "ingress"}
	}
	if opts.EventTimeout == 0 {
		opts.EventTimeout = 2 * time.Minute
	}
	h := &Harness{T: t, opts: opts, Owner: opts.Owner, Name: opts.Name, Repo: opts.Owner + "/" + opts.Name,
		running: map[string]*runningService{}, logOut: io.Discard}
	if os.Getenv("E2E_LOG") != "" {
		h.logOut = os.Stderr
	}
	tokens := map[string]string{BotToken: BotLogin, ApproverToken: ApproverLogin}
	gh, err := emulator.New(emulator.Options{Tokens: tokens, WebhookSecret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	h.GitHub = gh
	if err := h.seed(); err != nil {
		t.Fatal(err)
	}

	h.NATS = bustest.Start(t)
	h.Conn = h.NATS.Connect()
	h.Recorder = newRecorder(t, h.Conn)

	env := map[string]string{
		"GITHUB_URL":            gh.URL(),
		"GITHUB_OAUTH_TOKEN":    BotToken,
		"GITHUB_WEBHOOK_SECRET": Secret,
		"GITHUB_WRITE_RATE":     "1000",
		"GITHUB_WRITE_BURST":    "1000",
		"TEMPLATES_PATH":        filepath.Join(t.TempDir(), "no-templates"),
	}
	if opts.Approver {
		env["APPROVER_GITHUB_OAUTH_TOKEN"] = ApproverToken
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	for _, name := range opts.Services {
		h.StartService(name)
	}
	t.Cleanup(h.stopAll)
	// Cleanups run last-in first-out: the promise is checked while the
	// services still run.
	t.Cleanup(h.checkPromiseAtEnd)
	return h
}

// ExamplesDir is the examples/gitops-repo directory of this repository.
func ExamplesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "examples", "gitops-repo")
}

func (h *Harness) seed() error {
	if h.opts.RepoFiles != nil {
		return h.GitHub.CreateRepo(h.Owner, h.Name, h.opts.RepoFiles)
	}
	dir := h.opts.RepoDir
	if dir == "" {
		dir = ExamplesDir()
	}
	return h.GitHub.CreateRepoFromDir(h.Owner, h.Name, dir)
}

// StartService starts one service (see Builders) and waits until it
// listens. Starting ingress points the emulator's webhooks at it. A name
// with a suffix, "promoter#2", starts another replica of the service (its
// own process environment and NATS connection, the same durable consumer).
func (h *Harness) StartService(name string) {
	h.T.Helper()
	service, _, _ := strings.Cut(name, "#")
	b, ok := Builders[service]
	if !ok {
		h.T.Fatalf("unknown service %q", name)
	}
	h.mu.Lock()
	if _, up := h.running[name]; up {
		h.mu.Unlock()
		h.T.Fatalf("service %s is already running", name)
	}
	h.mu.Unlock()
	cfg := app.Config{
		LogConfig:       obs.LogConfig{Level: "debug", Format: "text"},
		ListenAddress:   "127.0.0.1:0",
		NATSURL:         h.NATS.URL(),
		DataDir:         h.T.TempDir(),
		DuplicateWindow: 10 * time.Minute,
		EventTimeout:    h.opts.EventTimeout,
		// Short, so stopping a service cuts in-flight work off quickly
		// (KillService relies on it).
		ShutdownTimeout: 300 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningService{cancel: cancel, done: make(chan error, 1)}
	addr := make(chan string, 1)
	opts := app.RunOptions{LogOutput: prefixed(h.logOut, name), Listening: func(a string) { addr <- a }}
	go func() { rs.done <- app.Run(ctx, cfg, opts, b) }()
	select {
	case a := <-addr:
		if service == "ingress" {
			h.webhookURL = "http://" + a + "/webhook"
			h.GitHub.SetWebhook(h.webhookURL, Secret)
		}
	case err := <-rs.done:
		cancel()
		h.T.Fatalf("service %s stopped at start: %v", name, err)
	case <-time.After(30 * time.Second):
		cancel()
		h.T.Fatalf("service %s did not start within 30s", name)
	}
	h.mu.Lock()
	h.running[name] = rs
	h.mu.Unlock()
}

// StopService stops a service: in-flight handlers get the short shutdown
// timeout, then their context is cancelled and their messages are
// redelivered later.
func (h *Harness) StopService(name string) {
	h.T.Helper()
	h.mu.Lock()
	rs, ok := h.running[name]
	delete(h.running, name)
	h.mu.Unlock()
	if !ok {
		return
	}
	rs.cancel()
	select {
	case err := <-rs.done:
		if err != nil {
			h.T.Logf("service %s stopped with: %v", name, err)
		}
	case <-time.After(30 * time.Second):
		h.T.Errorf("service %s did not stop within 30s", name)
	}
}

// KillService stops a service in the middle of its work: whatever GitHub
// call it is waiting on is abandoned. (Its NATS connection is closed after
// the handler returns, so the message comes back like after a crash.)
func (h *Harness) KillService(name string) { h.StopService(name) }

// RestartService stops and starts a service.
func (h *Harness) RestartService(name string) {
	h.T.Helper()
	h.StopService(name)
	h.StartService(name)
}

func (h *Harness) stopAll() {
	h.mu.Lock()
	names := make([]string, 0, len(h.running))
	for n := range h.running {
		names = append(names, n)
	}
	h.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		h.StopService(n)
	}
}

// WebhookURL is where the emulator sends webhooks (ingress's /webhook).
func (h *Harness) WebhookURL() string { return h.webhookURL }

// Eventually polls cond until it returns nil or timeout passes, then fails
// the test with the last error.
func (h *Harness) Eventually(what string, timeout time.Duration, cond func() error) {
	h.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			h.T.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// WaitSettled waits until every webhook was delivered, every durable
// consumer of every stream has nothing pending (nothing waiting for a
// retry either) and every promotion run that started has finished.
func (h *Harness) WaitSettled(timeout time.Duration) {
	h.T.Helper()
	stable := 0
	h.Eventually("system settled", timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.GitHub.WaitWebhooks(ctx); err != nil {
			return err
		}
		if err := h.consumersIdle(ctx); err != nil {
			stable = 0
			return err
		}
		if open := h.Recorder.OpenRuns(); len(open) > 0 {
			stable = 0
			return fmt.Errorf("runs not finished: %v", open)
		}
		stable++
		if stable < 3 {
			return fmt.Errorf("idle for %d checks", stable)
		}
		return nil
	})
}

func (h *Harness) consumersIdle(ctx context.Context) error {
	for name := range h.Conn.JS.StreamNames(ctx).Name() {
		st, err := h.Conn.JS.Stream(ctx, name)
		if err != nil {
			return err
		}
		for info := range st.ListConsumers(ctx).Info() {
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return fmt.Errorf("consumer %s on %s: %d pending, %d unacknowledged", info.Name, name, info.NumPending, info.NumAckPending)
			}
		}
	}
	return nil
}

// Consumer returns the info of a durable consumer.
func (h *Harness) Consumer(stream, name string) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.Conn.JS.Consumer(ctx, stream, name)
	if err != nil {
		return nil, err
	}
	return c.Info(ctx)
}

// prefixed writes log lines of one service to w (io.Discard stays silent).
func prefixed(w io.Writer, name string) io.Writer {
	if w == io.Discard {
		return w
	}
	return &prefixWriter{w: w, prefix: []byte("[" + name + "] ")}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(append(append([]byte{}, p.prefix...), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Recorder keeps every event of the PROMOTION stream, read by an ordered
// consumer from the start of the stream.
type Recorder struct {
	mu   sync.Mutex
	envs []*events.Envelope
}

func newRecorder(t testing.TB, conn *bus.Conn) *Recorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := conn.JS.OrderedConsumer(ctx, events.StreamPromotion, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorder{}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		env, err := events.Decode(m.Data())
		if err != nil {
			return
		}
		r.mu.Lock()
		r.envs = append(r.envs, env)
		r.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return r
}

// Envelopes returns the recorded envelopes of type typ ("" for all), in
// stream order.
func (r *Recorder) Envelopes(typ string) []*events.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*events.Envelope
	for _, e := range r.envs {
		if typ == "" || e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// Payloads returns the decoded payloads of type typ, in stream order.
func Payloads[T events.Payload](r *Recorder, typ string) []T {
	var out []T
	for _, e := range r.Envelopes(typ) {
		p, err := e.Payload()
		if err != nil {
			continue
		}
		if v, ok := p.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// OpenRuns returns the ids of runs started but not finished.
func (r *Recorder) OpenRuns() []string {
	finished := map[string]bool{}
	for _, f := range Payloads[*events.PromotionRunFinished](r, events.TypePromotionRunFinished) {
		finished[f.RunID] = true
	}
	var open []string
	for _, s := range Payloads[*events.PromotionRunStarted](r, events.TypePromotionRunStarted) {
		if !finished[s.RunID] {
			open = append(open, s.RunID)
		}
	}
	return open
}

// RunFinished returns the run_finished event of the run a merge started,
// or nil.
func (r *Recorder) RunFinished(mergeCommit string) *events.PromotionRunFinished {
	for _, f := range Payloads[*events.PromotionRunFinished](r, events.TypePromotionRunFinished) {
		if f.MergeCommit == mergeCommit {
			return f
		}
	}
	return nil
}
