package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// ConnOptions configures a client connection.
type ConnOptions struct {
	URL   string
	Creds string // NATS credentials file, optional
	Name  string // client name shown by the server
	Log   *slog.Logger
}

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

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
	}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
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
	return &Conn{NC: nc, JS: js}, nil
}

// Close drains the connection.
func (c *Conn) Close() {
	if err := c.NC.Drain(); err != nil {
		c.NC.Close()
	}
}

// EnsureStreams creates or updates every stream in specs; running it again is
// a no-op, so every service calls it at start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, specs []events.StreamSpec) error {
	for _, s := range specs {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        s.Name,
			Description: s.Description,
			Subjects:    s.Subjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      s.MaxAge,
			Duplicates:  s.Duplicates,
		})
		if err != nil {
			return fmt.Errorf("creating stream %s: %w", s.Name, err)
		}
	}
	return nil
}

// StreamsPresent reports whether every stream in specs exists; it is the
// readiness check of a service.
func StreamsPresent(ctx context.Context, js jetstream.JetStream, specs []events.StreamSpec) error {
	for _, s := range specs {
		if _, err := js.Stream(ctx, s.Name); err != nil {
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
	}
	return nil
}

// EnsureKV creates or updates a key-value bucket whose entries expire after ttl.
func EnsureKV(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  bucket,
		TTL:     ttl,
		Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("creating KV bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// IsUnavailable reports whether err means JetStream could not be reached (as
// opposed to a request it refused).
func IsUnavailable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}
