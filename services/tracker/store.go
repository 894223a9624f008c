package tracker

import (
	"context"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
)

// kvTable keeps records of one kind in the tracker bucket. Merge is a
// compare-and-set update, so workers and replicas merge facts into one
// record safely. It remembers the records it read and wrote, with their
// revisions, so a record it wrote last is updated in one call instead of
// a read and a write; a record changed by someone else fails the
// compare-and-set and is read again.
type kvTable[T any, P state.Merger[T]] struct {
	records *bus.Records[T]
	known   *lru.Cache[string, knownRecord[T]]
	// absent: a key the table does not remember is taken to be missing
	// (the bucket was emptied for a rebuild), so it is created without a
	// read first.
	absent bool
}

type knownRecord[T any] struct {
	v   *T
	rev uint64
}

// knownRecords is how many records each table remembers.
const knownRecords = 50000

func newKVTable[T any, P state.Merger[T]](kv jetstream.KeyValue, what string, timeout time.Duration, absent bool) *kvTable[T, P] {
	known, err := lru.New[string, knownRecord[T]](knownRecords)
	if err != nil { // only for a size below one
		panic(err)
	}
	return &kvTable[T, P]{records: bus.NewRecords[T](kv, what, timeout), known: known, absent: absent}
}

func (t *kvTable[T, P]) Merge(ctx context.Context, key string, fact *T) (*T, error) {
	k, ok := t.known.Get(key)
	cur, rev := k.v, k.rev
	ok = ok || t.absent
	for range 20 {
		if !ok {
			var err error
			if cur, rev, err = t.records.Get(ctx, key); err != nil {
				return nil, err
			}
		}
		next := P(cur).Merge(fact)
		if cur != nil && state.Same(cur, next) {
			// Nothing new; what the table remembers is older than the
			// bucket at worst, which then holds this fact too.
			return cur, nil
		}
		stored, newRev, err := t.records.Write(ctx, key, next, rev)
		if err != nil {
			return nil, err
		}
		if stored {
			t.known.Add(key, knownRecord[T]{v: next, rev: newRev})
			return next, nil
		}
		ok = false // changed meanwhile: read it
	}
	return nil, fmt.Errorf("merging into tracker record %s: too many concurrent updates", key)
}

func (t *kvTable[T, P]) forget(key string) { t.known.Remove(key) }

// kvTables are the projection's tables over the tracker bucket, and a
// function that makes them forget a key (deleted from the bucket).
func kvTables(kv jetstream.KeyValue, conn *bus.Conn, rebuilding bool) (state.Tables, func(key string)) {
	prs := newKVTable[state.PR](kv, "tracked PR", conn.CallTimeout, rebuilding)
	runs := newKVTable[state.Run](kv, "tracked run", conn.CallTimeout, rebuilding)
	entries := newKVTable[state.Entry](kv, "tracked entry", conn.CallTimeout, rebuilding)
	journeys := newKVTable[state.Journey](kv, "tracked journey", conn.CallTimeout, rebuilding)
	cells := newKVTable[state.Cell](kv, "tracked cell", conn.CallTimeout, rebuilding)
	forget := func(key string) {
		prs.forget(key)
		runs.forget(key)
		entries.forget(key)
		journeys.forget(key)
		cells.forget(key)
	}
	return state.Tables{PRs: prs, Runs: runs, Entries: entries, Journeys: journeys, Cells: cells}, forget
}

// projectionVersion names the projection's logic: a tracker that finds
// another version (or none) in the bucket rebuilds it from the stream.
const projectionVersion = "2"

// metaKey holds the version of the projection the bucket was built with.
const metaKey = "meta.version"

// prepare makes sure the bucket holds a projection of this version: when
// it does not (a new or deleted bucket, another version), it empties the
// bucket and deletes the consumer, so the consumer, created again, replays
// the stream from the start. It reports whether it started a rebuild.
func prepare(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue) (bool, error) {
	e, err := kv.Get(ctx, metaKey)
	switch {
	case err == nil && string(e.Value()) == projectionVersion:
		return false, nil
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return false, fmt.Errorf("reading the tracker projection's version: %w", err)
	}
	if err := js.DeleteConsumer(ctx, trackerStream, consumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return false, fmt.Errorf("deleting the tracker consumer to rebuild: %w", err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the tracker bucket: %w", err)
	}
	for k := range keys.Keys() {
		if err := kv.Purge(ctx, k); err != nil {
			return false, fmt.Errorf("emptying the tracker bucket: %w", err)
		}
	}
	if _, err := kv.Put(ctx, metaKey, []byte(projectionVersion)); err != nil {
		return false, fmt.Errorf("writing the tracker projection's version: %w", err)
	}
	return true, nil
}
