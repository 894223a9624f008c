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

// StoreBody puts body in the bodies bucket under name and returns the
// reference a delivery event carries instead of the body. The write is
// bounded by DefaultCallTimeout plus TransferTime of the body (or ctx's
// sooner deadline).
func StoreBody(ctx context.Context, store jetstream.ObjectStore, name string, body []byte) (*events.BodyRef, error) {
	ctx, cancel := CallContext(ctx, DefaultCallTimeout+TransferTime(int64(len(body))))
	defer cancel()
	if _, err := store.PutBytes(ctx, name, body); err != nil {
		return nil, fmt.Errorf("storing webhook body %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return &events.BodyRef{Bucket: events.BucketBodies, Name: name, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// LoadBody reads a body stored by StoreBody and checks its digest. A body that
// is gone (expired, deleted) is a permanent error. The read is bounded by
// DefaultCallTimeout plus TransferTime of the body (or ctx's sooner deadline).
func LoadBody(ctx context.Context, js jetstream.JetStream, ref *events.BodyRef) ([]byte, error) {
	ctx, cancel := CallContext(ctx, DefaultCallTimeout+TransferTime(ref.Size))
	defer cancel()
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
