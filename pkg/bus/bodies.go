package bus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// EnsureBodies creates or updates the object store bucket for large webhook
// bodies; objects live as long as the deliveries referring to them.
func EnsureBodies(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      events.BucketBodies,
		Description: "webhook bodies too large to travel inside a delivery event",
		TTL:         events.DeliveriesTTL,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("creating object store %s: %w", events.BucketBodies, err)
	}
	return obs, nil
}

// StoreBody puts body in the bodies bucket under name and returns the
// reference a delivery event carries instead of the body.
func StoreBody(ctx context.Context, store jetstream.ObjectStore, name string, body []byte) (*events.BodyRef, error) {
	if _, err := store.PutBytes(ctx, name, body); err != nil {
		return nil, fmt.Errorf("storing webhook body %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return &events.BodyRef{Bucket: events.BucketBodies, Name: name, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// LoadBody reads a body stored by StoreBody and checks its digest. A body that
// is gone (expired, deleted) is a permanent error.
func LoadBody(ctx context.Context, js jetstream.JetStream, ref *events.BodyRef) ([]byte, error) {
	store, err := js.ObjectStore(ctx, ref.Bucket)
	if err != nil {
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, Permanent(fmt.Errorf("reading webhook body %s: %w", ref.Name, err))
		}
		return nil, fmt.Errorf("opening object store %s: %w", ref.Bucket, err)
	}
	body, err := store.GetBytes(ctx, ref.Name)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, Permanent(fmt.Errorf("reading webhook body %s: %w", ref.Name, err))
		}
		return nil, fmt.Errorf("reading webhook body %s: %w", ref.Name, err)
	}
	sum := sha256.Sum256(body)
	if int64(len(body)) != ref.Size || hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, Permanent(fmt.Errorf("webhook body %s does not match its digest", ref.Name))
	}
	return body, nil
}

// ResolveDelivery fills in d.Body from the object store when the delivery
// carries a reference instead.
func ResolveDelivery(ctx context.Context, js jetstream.JetStream, d *events.GitHubDelivery) error {
	if d.BodyRef == nil || d.Body != nil {
		return nil
	}
	body, err := LoadBody(ctx, js, d.BodyRef)
	if err != nil {
		return err
	}
	d.Body = body
	return nil
}

// hydrate replaces a delivery envelope's body reference by the body, so
// handlers always find GitHubDelivery.Body set.
func hydrate(ctx context.Context, js jetstream.JetStream, env *events.Envelope) error {
	if env.Type != events.TypeGitHubDelivery || !bytes.Contains(env.Data, []byte(`"bodyRef"`)) {
		return nil
	}
	var d events.GitHubDelivery
	if err := env.DecodeData(&d); err != nil {
		return Permanent(err)
	}
	if err := ResolveDelivery(ctx, js, &d); err != nil {
		return err
	}
	full, err := events.New(events.Meta{ID: env.ID}, &d)
	if err != nil {
		return Permanent(err)
	}
	env.Data = full.Data
	return nil
}
