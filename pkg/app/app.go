package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/obs"
)

// Service is one Telefonistka service. Run blocks until ctx is done and the
// service has drained.
type Service interface {
	Run(ctx context.Context) error
}

// RouteMounter is implemented by services that serve HTTP routes (ingress).
type RouteMounter interface {
	Routes(r chi.Router)
}

// BusIndependent is implemented by a service that keeps doing its work
// while JetStream is unavailable (ingress, while its spool has room). A
// process whose services all implement it stays ready while each one's
// ReadyWithoutBus returns nil, whatever NATS' state.
type BusIndependent interface {
	ReadyWithoutBus() error
}

// Builder constructs a service from the shared process environment; the
// service reads its own configuration from the process environment.
type Builder struct {
	Name string
	New  func(ctx context.Context, env *Env) (Service, error)
	// Check, if set, validates the service's settings (its environment)
	// without connecting to anything. Run calls every Check before it
	// starts NATS, so a misconfigured process reports every problem at
	// once and leaves nothing behind (no data directory).
	Check func() error
}

// Env is what the process shares with its services.
type Env struct {
	Config     Config
	Conn       *bus.Conn
	Log        *slog.Logger
	Registry   *prometheus.Registry
	BusMetrics *bus.Metrics
	// Health is what the readiness endpoint reports besides NATS and the
	// streams (a lost consumer).
	Health *bus.Health
	// EmbeddedNATS is set when NATS runs in this process, its JetStream
	// files in TELEFONISTKA_DATA_DIR.
	EmbeddedNATS bool

	ghOnce   sync.Once
	gh       *githubapi.Factory
	ghBudget *githubapi.SharedBudget
	ghErr    error

	dial    func(name string) (*bus.Conn, error)
	connsMu sync.Mutex
	conns   []*bus.Conn
}

// Connect returns a NATS connection of the caller's own, with the process's
// settings, closed when the process stops. Conn carries every consumer's
// pulls, deliveries and acknowledgements; a service that answers requests
// while they flow (ingress) publishes on its own connection, so its calls
// never wait for that traffic (the client writes a connection's buffer
// under one lock, and the server reads one connection's messages in order).
// An Env without a way to dial (one built by hand in a test) returns Conn.
func (e *Env) Connect(name string) (*bus.Conn, error) {
	if e.dial == nil {
		return e.Conn, nil
	}
	c, err := e.dial(name)
	if err != nil {
		return nil, err
	}
	c.Metrics = e.BusMetrics
	e.connsMu.Lock()
	e.conns = append(e.conns, c)
	e.connsMu.Unlock()
	return c, nil
}

// connected reports whether Conn and every connection Connect opened are
// connected.
func (e *Env) connected() bool {
	e.connsMu.Lock()
	defer e.connsMu.Unlock()
	for _, c := range e.conns {
		if !c.NC.IsConnected() {
			return false
		}
	}
	return e.Conn.NC.IsConnected()
}

// closeConns drains the connections Connect opened.
func (e *Env) closeConns() {
	e.connsMu.Lock()
	defer e.connsMu.Unlock()
	for _, c := range e.conns {
		c.Close()
	}
	e.conns = nil
}

// GitHub returns the process's GitHub client factory, built from the
// environment on first use so services that never call GitHub need no
// credentials. Its write budget is kept in JetStream
// (events.BucketGitHubBudget), shared by every replica of every service.
func (e *Env) GitHub() (*githubapi.Factory, error) {
	e.ghOnce.Do(func() {
		cfg, err := githubapi.LoadConfig()
		if err != nil {
			e.ghErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		kv, err := bus.EnsureKV(ctx, e.Conn, events.BucketGitHubBudget, events.GitHubBudgetTTL)
		if err != nil {
			e.ghErr = err
			return
		}
		// Its reads and writes wait out a NATS node's loss (bus.Call)
		// instead of failing the handler that writes to GitHub.
		e.ghBudget, err = githubapi.NewSharedBudget(bus.CallKV{KeyValue: kv, Timeout: e.Config.NATSTimeout}, githubapi.BudgetOptions{
			Rate: float64(cfg.WriteRate), Burst: int(cfg.WriteBurst), CallTimeout: e.Config.NATSTimeout, Log: e.Log,
		})
		if err != nil {
			e.ghErr = err
			return
		}
		e.gh, e.ghErr = githubapi.NewFactory(cfg, githubapi.Options{Registerer: e.Registry, Budget: e.ghBudget})
	})
	return e.gh, e.ghErr
}

// closeGitHub stops what GitHub started (the budget's watch).
func (e *Env) closeGitHub() {
	if e.ghBudget != nil {
		e.ghBudget.Close()
	}
}

// ConsumerOptions returns consumer options with the process defaults filled in.
func (e *Env) ConsumerOptions(service string, spec events.ConsumerSpec) bus.ConsumerOptions {
	return bus.ConsumerOptions{
		Spec:         spec,
		Service:      service,
		EventTimeout: e.Config.EventTimeout,
		CallTimeout:  e.Config.NATSTimeout,
		DrainTimeout: e.Config.ShutdownTimeout,
		Log:          e.Log, // the runtime adds service and consumer
		Metrics:      e.BusMetrics,
		Health:       e.Health,
	}
}

// Publisher returns a publisher on the process connection.
func (e *Env) Publisher() bus.Publisher { return e.Conn.Publisher() }

// RunOptions tunes Run.
type RunOptions struct {
	// Embedded allows starting an embedded NATS server when NATS_URL is empty.
	Embedded bool
	// LogOutput receives the logs (default stderr).
	LogOutput io.Writer
	// Listening, if set, receives the HTTP address once it listens.
	Listening func(addr string)
	// Started, if set, is called once every service runs and the listener
	// is up (the event command injects its delivery from there).
	Started func(env *Env)
}

// Main runs the given services until SIGTERM or SIGINT and returns the exit
// code; the per-service binaries call it from main.
func Main(opts RunOptions, builders ...Builder) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := LoadAndCheck(builders...)
	if err == nil {
		err = Run(ctx, cfg, opts, builders...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "telefonistka:", err)
		return 1
	}
	return 0
}

// Run starts NATS (embedded or external), every service and the HTTP server,
// and blocks until ctx is done; then it shuts everything down in order: the
// listener first (no new webhooks), then the services (draining), then NATS.
func Run(ctx context.Context, cfg Config, opts RunOptions, builders ...Builder) error {
	out := opts.LogOutput
	if out == nil {
		out = os.Stderr
	}
	log, err := obs.NewLogger(cfg.LogConfig, out)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	shutdownTracing, err := obs.SetupTracing(ctx, serviceName(builders))
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	if err := CheckSettings(builders...); err != nil {
		return err
	}
	natsURL := cfg.NATSURL
	var embedded *server.Server
	if natsURL == "" {
		if !opts.Embedded {
			return errors.New("NATS_URL is required when running a single service")
		}
		if embedded, err = startEmbedded(cfg); err != nil {
			return err
		}
		defer func() { embedded.Shutdown(); embedded.WaitForShutdown() }()
		natsURL = embedded.ClientURL()
		log.Info("embedded NATS started", "url", natsURL, "data_dir", cfg.DataDir)
	}
	dial := func(name string) (*bus.Conn, error) {
		o := bus.ConnOptions{URL: natsURL, Creds: cfg.NATSCreds, Name: name, Log: log,
			CallTimeout: cfg.NATSTimeout, Replicas: cfg.StreamReplicas}
		if embedded != nil {
			// No TCP through the loopback: a fifth less CPU per webhook
			// in the all-in-one server at 1,000 webhooks/s.
			o.InProcess = embedded
		}
		return bus.Connect(o)
	}
	conn, err := dial("telefonistka-" + serviceName(builders))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, stopWatching := cancelOnClosed(ctx, conn.NC)
	defer stopWatching()
	reg := obs.NewRegistry()
	env := &Env{Config: cfg, Conn: conn, Log: log, Registry: reg, BusMetrics: bus.NewMetrics(reg), Health: &bus.Health{}, dial: dial,
		EmbeddedNATS: embedded != nil}
	conn.Metrics = env.BusMetrics
	defer env.closeGitHub()
	defer env.closeConns()
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	streamErrs := bus.EnsureStreams(setupCtx, conn, events.Streams(cfg.DuplicateWindow))
	cancel()
	builders, streams, err := runnable(builders, streamErrs, log)
	if err != nil {
		return err
	}
	services := make([]Service, 0, len(builders))
	busReady := func(ctx context.Context) error {
		if !env.connected() {
			return errors.New("NATS is not connected")
		}
		if err := env.Health.Err(); err != nil {
			return err
		}
		return bus.StreamsPresent(ctx, conn.JS, streams)
	}
	router := newRouter(reg, cfg.MetricsListenAddress == "", func(ctx context.Context) error {
		err := busReady(ctx)
		if err == nil {
			return nil
		}
		return readyWithoutBus(services, err)
	})
	for _, b := range builders {
		s, err := b.New(ctx, env)
		if err != nil {
			return fmt.Errorf("starting %s: %w", b.Name, err)
		}
		if m, ok := s.(RouteMounter); ok {
			m.Routes(router)
		}
		services = append(services, s)
	}

	svcCtx, stopServices := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServices()
	errs := make(chan error, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Add(1)
		go func(name string, s Service) {
			defer wg.Done()
			if err := s.Run(svcCtx); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}(builders[i].Name, s)
	}

	servers, err := listen(cfg, router, reg, opts.Listening, log)
	if err != nil {
		stopServices()
		wg.Wait()
		return err
	}
	log.Info("telefonistka running", "services", names(builders), "listen", cfg.Listen())
	if opts.Started != nil {
		opts.Started(env)
	}

	var runErr error
	select {
	case <-ctx.Done():
		if runErr = connLost(ctx); runErr != nil {
			log.Error("lost NATS for good; shutting down", "error", runErr)
		}
	case runErr = <-errs:
		log.Error("service failed; shutting down", "error", runErr)
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShutdown()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx)
	}
	stopServices()
	wg.Wait()
	log.Info("telefonistka stopped")
	return runErr
}

// readyWithoutBus returns nil when every service can work without the bus
// (BusIndependent) and says it can now, else busErr.
func readyWithoutBus(services []Service, busErr error) error {
	if len(services) == 0 {
		return busErr
	}
	for _, s := range services {
		b, ok := s.(BusIndependent)
		if !ok {
			return busErr
		}
		if err := b.ReadyWithoutBus(); err != nil {
			return fmt.Errorf("%w; %w", busErr, err)
		}
	}
	return nil
}

func startEmbedded(cfg Config) (*server.Server, error) {
	o := bus.EmbeddedOptions{DataDir: cfg.DataDir}
	if cfg.NATSListen != "" {
		host, port, err := net.SplitHostPort(cfg.NATSListen)
		if err != nil {
			return nil, fmt.Errorf("TELEFONISTKA_NATS_LISTEN %q is not host:port: %w", cfg.NATSListen, err)
		}
		o.Host = host
		if _, err := fmt.Sscan(port, &o.Port); err != nil {
			return nil, fmt.Errorf("TELEFONISTKA_NATS_LISTEN port %q: %w", port, err)
		}
	}
	return bus.StartEmbedded(o)
}

func listen(cfg Config, router http.Handler, reg *prometheus.Registry, notify func(string), log *slog.Logger) ([]*http.Server, error) {
	addrs := []string{cfg.Listen()}
	handlers := []http.Handler{traced(router)}
	if cfg.MetricsListenAddress != "" {
		addrs = append(addrs, cfg.MetricsListenAddress)
		handlers = append(handlers, metricsOnly(reg))
	}
	var servers []*http.Server
	for i, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, s := range servers {
				_ = s.Close()
			}
			return nil, fmt.Errorf("listening on %s: %w", addr, err)
		}
		srv := &http.Server{Handler: handlers[i], ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		if i == 0 && notify != nil {
			notify(ln.Addr().String())
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server stopped", "addr", addr, "error", err)
			}
		}()
	}
	return servers, nil
}

func names(bs []Builder) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Name
	}
	return out
}

func serviceName(bs []Builder) string {
	if len(bs) == 1 {
		return bs[0].Name
	}
	return "server"
}
