package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnOptions configures a client connection.
type ConnOptions struct {
	URL   string
	Creds string // NATS credentials file, optional
	Name  string // client name shown by the server
	Log   *slog.Logger
	// CallTimeout bounds each NATS call made through the connection's
	// publisher and stores (default DefaultCallTimeout).
	CallTimeout time.Duration
	// Replicas of the streams, KV buckets and object store created through
	// the connection (default 1).
	Replicas int
	// PingInterval is how often the client checks that its server still
	// answers (default DefaultPingInterval); two unanswered pings end the
	// connection and the client moves to another server.
	PingInterval time.Duration
	// InProcess, if set, connects to a NATS server running in this process
	// without a network connection (the embedded server): URL is ignored.
	InProcess nats.InProcessConnProvider
}

// DefaultPingInterval: a server that vanishes without closing its
// connections (a host lost, a network partition) is left after 10 to 15 s
// instead of the NATS client's 4 to 6 minutes (a ping every 2 minutes).
const DefaultPingInterval = 5 * time.Second

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
	// CallTimeout bounds each NATS call (see DefaultCallTimeout).
	CallTimeout time.Duration
	// Replicas of what is created in JetStream (see EnsureStream).
	Replicas int
	// Log and Metrics receive what provisioning keeps or changes; Metrics
	// may be nil.
	Log     *slog.Logger
	Metrics *Metrics
}

func (c *Conn) replicas() int { return max(c.Replicas, 1) }

// Publisher returns a publisher on the connection.
func (c *Conn) Publisher() Publisher { return Publisher{JS: c.JS, Timeout: c.CallTimeout} }

// Connect dials NATS and keeps reconnecting for ever, so a NATS restart is
// survived. The first dial must succeed.
func Connect(o ConnOptions) (*Conn, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.PingInterval(cmp.Or(o.PingInterval, DefaultPingInterval)),
		nats.MaxPingsOutstanding(2),
		nats.RetryOnFailedConnect(false),
		// Fail publishes at once while disconnected instead of buffering them:
		// ingress must answer 503 quickly, and consumers retry by redelivery.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: we closed the connection ourselves
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "url", c.ConnectedUrlRedacted())
		}),
		// Asynchronous errors go to the log, not to stderr as the client's
		// own handler writes them; an in-process connection whose server
		// is shutting down reports a closed pipe, which is no news.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			level := slog.LevelWarn
			if errors.Is(err, io.ErrClosedPipe) {
				level = slog.LevelDebug
			}
			attrs := []any{"error", err}
			if sub != nil {
				attrs = append(attrs, "subject", sub.Subject)
			}
			log.Log(context.Background(), level, "nats asynchronous error", attrs...)
		}),
	}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
	}
	if o.InProcess != nil {
		opts = append(opts, nats.InProcessServer(o.InProcess))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return &Conn{NC: nc, JS: js, CallTimeout: o.CallTimeout, Replicas: o.Replicas, Log: log}, nil
}

// Close drains the connection.
func (c *Conn) Close() {
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
	}
}

// StreamsPresent reports whether every stream in specs exists; it is the
// readiness check of a service.
func StreamsPresent(ctx context.Context, js jetstream.JetStream, names []string) error {
	for _, name := range names {
		if _, err := js.Stream(ctx, name); err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}

// IsUnavailable reports whether err means JetStream could not be reached (as
// opposed to a request it refused).
func IsUnavailable(err error) bool {
	// 503 "JetStream system temporarily unavailable" (10008): the cluster
	// is electing its metadata leader, as after a node loss.
	var api *jetstream.APIError
	if errors.As(err, &api) && (api.Code == 503 || api.ErrorCode == errSystemUnavailable) {
		return true
	}
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, nats.ErrReconnectBufExceeded)
}
