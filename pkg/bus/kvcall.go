package bus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// CallKV is a KV bucket whose reads and writes go through Call: each has its
// own deadline (Timeout, 0: DefaultCallTimeout) and is tried again while a
// NATS node is lost (the client reconnecting, the bucket's stream electing
// a leader), for code that takes a jetstream.KeyValue-like store rather
// than Records (the shared GitHub write budget). Create and Update are
// safe to repeat: a repeat of one that was applied fails with
// jetstream.ErrKeyExists or a revision mismatch, as a conflict does.
type CallKV struct {
	jetstream.KeyValue
	Timeout time.Duration
}

// Get reads the entry at key.
func (k CallKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	var e jetstream.KeyValueEntry
	err := Call(ctx, k.Timeout, func(ctx context.Context) error {
		var err error
		e, err = k.KeyValue.Get(ctx, key)
		return err
	})
	return e, err
}

// Create writes key if it does not exist.
func (k CallKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	var rev uint64
	err := Call(ctx, k.Timeout, func(ctx context.Context) error {
		var err error
		rev, err = k.KeyValue.Create(ctx, key, value, opts...)
		return err
	})
	return rev, err
}

// Update writes key if its revision is still revision.
func (k CallKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	var rev uint64
	err := Call(ctx, k.Timeout, func(ctx context.Context) error {
		var err error
		rev, err = k.KeyValue.Update(ctx, key, value, revision)
		return err
	})
	return rev, err
}
