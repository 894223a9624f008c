package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Records is a KV bucket of JSON records of one type, the one record store
// of every service. Every call has its own deadline (Conn.CallTimeout), so a
// NATS node that stops answering fails the call in seconds; Update is
// compare-and-set, so replicas may change one record concurrently.
type Records[T any] struct {
	kv      jetstream.KeyValue
	what    string
	timeout time.Duration
}

// OpenRecords creates the bucket if it is missing (see EnsureKV) and returns
// its records; what names a record in errors ("promotion run").
func OpenRecords[T any](ctx context.Context, conn *Conn, bucket string, ttl time.Duration, what string) (*Records[T], error) {
	cctx, cancel := CallContext(ctx, conn.CallTimeout)
	defer cancel()
	kv, err := EnsureKV(cctx, conn, bucket, ttl)
	if err != nil {
		return nil, err
	}
	return NewRecords[T](kv, what, conn.CallTimeout), nil
}

// NewRecords returns the records of an opened bucket; timeout bounds each
// call (0: DefaultCallTimeout).
func NewRecords[T any](kv jetstream.KeyValue, what string, timeout time.Duration) *Records[T] {
	return &Records[T]{kv: kv, what: what, timeout: timeout}
}

// Get returns the record at key and its revision; nil and 0 when there is
// none. A record that is not valid JSON of T is a permanent error.
func (r *Records[T]) Get(ctx context.Context, key string) (*T, uint64, error) {
	e, err := r.entry(ctx, key)
	if e == nil || err != nil {
		return nil, 0, err
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, 0, Permanent(fmt.Errorf("decoding %s %s: %w", r.what, key, err))
	}
	return &v, e.Revision(), nil
}

// Has reports whether a record is at key, whatever it holds.
func (r *Records[T]) Has(ctx context.Context, key string) (bool, error) {
	e, err := r.entry(ctx, key)
	return e != nil, err
}

// entry reads the entry at key; nil when there is none.
func (r *Records[T]) entry(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	var e jetstream.KeyValueEntry
	err := Call(ctx, r.timeout, func(ctx context.Context) error {
		var err error
		e, err = r.kv.Get(ctx, key)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", r.what, key, err)
	}
	return e, nil
}

// Put stores v at key, whatever is there (last writer wins).
func (r *Records[T]) Put(ctx context.Context, key string, v *T) error {
	data, err := r.encode(key, v)
	if err != nil {
		return err
	}
	if err := Call(ctx, r.timeout, func(ctx context.Context) error {
		_, err := r.kv.Put(ctx, key, data)
		return err
	}); err != nil {
		return fmt.Errorf("writing %s %s: %w", r.what, key, err)
	}
	return nil
}

// Update applies change to the record at key (nil when there is none) and
// stores what change returns, if the record did not change meanwhile;
// otherwise it tries again with the new record. change returning nil
// stores nothing. Update returns the record as stored (the current one when
// change stored nothing) and whether it stored.
func (r *Records[T]) Update(ctx context.Context, key string, change func(cur *T) *T) (*T, bool, error) {
	for range 20 {
		cur, rev, err := r.Get(ctx, key)
		if err != nil {
			return nil, false, err
		}
		next := change(cur)
		if next == nil {
			return cur, false, nil
		}
		stored, _, err := r.write(ctx, key, next, rev)
		if err != nil {
			return nil, false, err
		}
		if stored {
			return next, true, nil
		}
	}
	return nil, false, fmt.Errorf("writing %s %s: too many concurrent updates", r.what, key)
}

// Create stores v at key unless a record is there; it reports whether it
// stored.
func (r *Records[T]) Create(ctx context.Context, key string, v *T) (bool, error) {
	stored, _, err := r.write(ctx, key, v, 0)
	return stored, err
}

// Write stores v at key if the record is at revision rev (0: there is
// none) and returns the new revision; it reports false when the record is
// not at rev. A caller that remembers records and their revisions writes
// with it without reading first (Update reads).
func (r *Records[T]) Write(ctx context.Context, key string, v *T, rev uint64) (bool, uint64, error) {
	return r.write(ctx, key, v, rev)
}

// write stores v at key if the record is at revision rev (0: there is
// none); it reports false when it is not, and the new revision.
func (r *Records[T]) write(ctx context.Context, key string, v *T, rev uint64) (bool, uint64, error) {
	data, err := r.encode(key, v)
	if err != nil {
		return false, 0, err
	}
	var next uint64
	err = Call(ctx, r.timeout, func(ctx context.Context) error {
		var err error
		if rev == 0 {
			next, err = r.kv.Create(ctx, key, data)
		} else {
			next, err = r.kv.Update(ctx, key, data, rev)
		}
		return err
	})
	switch {
	case err == nil:
		return true, next, nil
	case IsConflict(err):
		return false, 0, nil
	}
	return false, 0, fmt.Errorf("writing %s %s: %w", r.what, key, err)
}

// Delete removes the record at key if it is at revision rev (0: whatever
// it is); a record that changed meanwhile, or is gone, is left alone.
func (r *Records[T]) Delete(ctx context.Context, key string, rev uint64) error {
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	err := Call(ctx, r.timeout, func(ctx context.Context) error { return r.kv.Delete(ctx, key, opts...) })
	if err != nil && !IsConflict(err) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting %s %s: %w", r.what, key, err)
	}
	return nil
}

func (r *Records[T]) encode(key string, v *T) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encoding %s %s: %w", r.what, key, err))
	}
	return data, nil
}

// IsConflict reports whether a KV write failed because the record was not
// at the expected revision (or existed when it should not).
func IsConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}
