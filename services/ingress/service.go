// Package ingress receives GitHub webhooks, checks their signature, size and
// content type, and stores each delivery on the GITHUB stream before
// answering. It never calls GitHub.
package ingress

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Builder registers ingress with pkg/app.
var Builder = app.Builder{Name: "ingress", New: New, Check: app.Settings(LoadConfig, false)}

// Service is the ingress service.
type Service struct {
	handler *webhookHandler
}

// New builds ingress from the environment.
func New(ctx context.Context, env *app.Env) (app.Service, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	// A connection of its own: in the all-in-one server the shared one
	// carries every consumer's traffic, and a webhook's three calls (look
	// up, publish, remember) would wait behind it.
	conn, err := env.Connect("telefonistka-ingress")
	if err != nil {
		return nil, err
	}
	store, err := openJetStreamStore(ctx, conn, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.SpoolDir == "" && env.Config.DataDir != "" {
		cfg.SpoolDir = filepath.Join(env.Config.DataDir, "ingress-spool")
	}
	if cfg.AnswerAfter == "" && env.EmbeddedNATS && cfg.SpoolMaxBytes > 0 {
		// The embedded JetStream keeps its files on this machine's disk
		// like the spool, so a delivery the spool holds is as safe.
		cfg.AnswerAfter = AnswerAfterSpool
	}
	return NewService(cfg, store, env.Registry, env.Log.With("service", "ingress"))
}

// openJetStreamStore opens what ingress stores deliveries in.
func openJetStreamStore(ctx context.Context, conn *bus.Conn, cfg Config) (*jetStreamStore, error) {
	seen, err := bus.OpenRecords[string](ctx, conn, events.BucketDeliveries, events.DeliveriesTTL, "delivery id")
	if err != nil {
		return nil, err
	}
	bodies, err := bus.EnsureBodies(ctx, conn)
	if err != nil {
		return nil, err
	}
	// A delivery's publish may take all of INGRESS_PUBLISH_TIMEOUT (on a
	// cluster, a stream electing a new leader after a node loss).
	pub := conn.Publisher()
	pub.Timeout = max(pub.Timeout, cfg.PublishTimeout)
	return &jetStreamStore{pub: pub, seen: seen, bodies: bodies}, nil
}

// NewService builds ingress over an explicit store (tests). With
// cfg.SpoolDir set and cfg.SpoolMaxBytes positive it opens the spool there;
// Run drains it, and closes it when it returns.
func NewService(cfg Config, store deliveryStore, reg prometheus.Registerer, log *slog.Logger) (*Service, error) {
	h := &webhookHandler{cfg: cfg, store: store, metrics: newMetrics(reg), log: log, now: time.Now}
	if cfg.SpoolDir == "" || cfg.SpoolMaxBytes <= 0 {
		if cfg.AnswerAfter == AnswerAfterSpool {
			return nil, errors.New("INGRESS_ANSWER_AFTER=spool needs the spool: set INGRESS_SPOOL_DIR and a positive INGRESS_SPOOL_MAX_BYTES")
		}
		log.Info("spool off: a delivery JetStream cannot store is answered 503")
		return &Service{handler: h}, nil
	}
	h.answerAfterSpool = cfg.AnswerAfter == AnswerAfterSpool
	sp, notes, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		log.Warn("spool repaired", "repair", n)
	}
	sp.onChange = func(entries int, bytes int64) {
		h.metrics.spoolEntries.Set(float64(entries))
		h.metrics.spoolBytes.Set(float64(bytes))
	}
	entries, bytes := sp.usage()
	sp.onChange(entries, bytes)
	log.Info("spool open", "dir", cfg.SpoolDir, "max_bytes", cfg.SpoolMaxBytes, "entries", entries, "bytes", bytes,
		"answer_after", cmp.Or(cfg.AnswerAfter, AnswerAfterJetStream))
	h.spool = sp
	return &Service{handler: h}, nil
}

// Routes mounts POST /webhook.
func (s *Service) Routes(r chi.Router) { r.Method("POST", "/webhook", s.handler) }

// Run stores the spooled deliveries on JetStream (those a previous process
// left first) until ctx is done.
// Before it returns, it waits for the delivery ids being recorded.
func (s *Service) Run(ctx context.Context) error {
	defer s.handler.remembering.Wait()
	if s.handler.spool == nil {
		<-ctx.Done()
		return nil
	}
	defer s.handler.spool.close()
	s.handler.drain(ctx)
	// The listener has stopped: store what the spool still holds while
	// NATS is up, so nothing accepted waits for the next start.
	fctx, cancel := context.WithTimeout(context.Background(), s.handler.cfg.PublishTimeout)
	defer cancel()
	s.handler.flush(fctx)
	_ = s.handler.spool.release(true)
	return nil
}

// ReadyWithoutBus reports whether ingress can accept webhooks while
// JetStream is unavailable: its spool is on and has room.
func (s *Service) ReadyWithoutBus() error {
	if s.handler.spool == nil {
		return errors.New("ingress spool is off")
	}
	if !s.handler.spool.hasRoom() {
		return errors.New("ingress spool is full")
	}
	return nil
}

// jetStreamStore stores deliveries on the GITHUB stream and remembers their
// ids in a KV bucket whose entries outlive the duplicate window.
type jetStreamStore struct {
	pub    bus.Publisher
	seen   *bus.Records[string]
	bodies jetstream.ObjectStore
}

// deliveryKey maps a delivery id to a valid KV key.
func deliveryKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

func (s *jetStreamStore) Seen(ctx context.Context, id string) (bool, error) {
	return s.seen.Has(ctx, deliveryKey(id))
}

func (s *jetStreamStore) Store(ctx context.Context, subject string, env *events.Envelope) (bool, error) {
	res, err := s.pub.PublishOn(ctx, subject, env)
	if err != nil {
		return false, err
	}
	return res.Duplicate, nil
}

func (s *jetStreamStore) StoreAsync(ctx context.Context, subject string, env *events.Envelope) func() (bool, error) {
	wait := s.pub.PublishOnAsync(ctx, subject, env)
	return func() (bool, error) {
		res, err := wait()
		return res.Duplicate, err
	}
}

func (s *jetStreamStore) Remember(ctx context.Context, id string) error {
	return s.seen.Put(ctx, deliveryKey(id), &id)
}

func (s *jetStreamStore) PutBody(ctx context.Context, id string, body []byte) (*events.BodyRef, error) {
	return bus.StoreBody(ctx, s.bodies, deliveryKey(id), body)
}
