// Package ingress receives GitHub webhooks, checks their signature, size and
// content type, and stores each delivery on the GITHUB stream before
// answering. It never calls GitHub.
package ingress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Builder registers ingress with pkg/app.
var Builder = app.Builder{Name: "ingress", New: New}

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
	kv, err := bus.EnsureKV(ctx, env.Conn.JS, events.BucketDeliveries, events.DeliveriesTTL)
	if err != nil {
		return nil, err
	}
	bodies, err := bus.EnsureBodies(ctx, env.Conn.JS)
	if err != nil {
		return nil, err
	}
	return NewService(cfg, &jetStreamStore{pub: env.Publisher(), kv: kv, bodies: bodies}, env.Registry, env.Log.With("service", "ingress")), nil
}

// NewService builds ingress over an explicit store (tests).
func NewService(cfg Config, store deliveryStore, reg prometheus.Registerer, log *slog.Logger) *Service {
	return &Service{handler: &webhookHandler{cfg: cfg, store: store, metrics: newMetrics(reg), log: log, now: time.Now}}
}

// Routes mounts POST /webhook.
func (s *Service) Routes(r chi.Router) { r.Method("POST", "/webhook", s.handler) }

// Run has nothing to consume; it waits for shutdown.
func (s *Service) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// jetStreamStore stores deliveries on the GITHUB stream and remembers their
// ids in a KV bucket whose entries outlive the duplicate window.
type jetStreamStore struct {
	pub    bus.Publisher
	kv     jetstream.KeyValue
	bodies jetstream.ObjectStore
}

// deliveryKey maps a delivery id to a valid KV key.
func deliveryKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

func (s *jetStreamStore) Seen(ctx context.Context, id string) (bool, error) {
	_, err := s.kv.Get(ctx, deliveryKey(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("looking up delivery %s: %w", id, err)
}

func (s *jetStreamStore) Store(ctx context.Context, env *events.Envelope) (bool, error) {
	res, err := s.pub.Publish(ctx, env)
	if err != nil {
		return false, err
	}
	return res.Duplicate, nil
}

func (s *jetStreamStore) Remember(ctx context.Context, id string) error {
	_, err := s.kv.Put(ctx, deliveryKey(id), []byte(id))
	return err
}

func (s *jetStreamStore) PutBody(ctx context.Context, id string, body []byte) (*events.BodyRef, error) {
	return bus.StoreBody(ctx, s.bodies, deliveryKey(id), body)
}
