// Package prcheck keeps the records of open-PR check runs
// (events.PRCheckRun) in the KV bucket events.BucketPRChecks. Several
// services (drift, argodiff) take part in one run and own one commit
// status together; updates are compare-and-set (bus.Records), so they
// record their results concurrently.
package prcheck

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Store reads and writes run records.
type Store struct {
	Recs *bus.Records[events.PRCheckRun]
	// KV is the bucket, for watching a record.
	KV jetstream.KeyValue
}

// Open creates the bucket if it is missing and returns the store.
func Open(ctx context.Context, conn *bus.Conn) (Store, error) {
	cctx, cancel := bus.CallContext(ctx, conn.CallTimeout)
	defer cancel()
	kv, err := bus.EnsureKV(cctx, conn, events.BucketPRChecks, events.PRChecksTTL)
	if err != nil {
		return Store{}, err
	}
	return Store{Recs: bus.NewRecords[events.PRCheckRun](kv, "PR check record", conn.CallTimeout), KV: kv}, nil
}

// Get returns the record under key, or nil, with its revision.
func (r Store) Get(ctx context.Context, key string) (*events.PRCheckRun, uint64, error) {
	return r.Recs.Get(ctx, key)
}

// Begin makes sure the record of run exists: a record of another run (an
// older one for the same head) is replaced.
func (r Store) Begin(ctx context.Context, key string, fresh *events.PRCheckRun) (*events.PRCheckRun, error) {
	rec, _, err := r.Recs.Update(ctx, key, func(cur *events.PRCheckRun) *events.PRCheckRun {
		if cur != nil && cur.RunID == fresh.RunID {
			return nil
		}
		return fresh
	})
	return rec, err
}

// Modify changes the record of run runID; when the record belongs to
// another run (a newer one replaced it), nothing is written and nil is
// returned.
func (r Store) Modify(ctx context.Context, key, runID string, change func(*events.PRCheckRun)) (*events.PRCheckRun, error) {
	superseded := false
	rec, _, err := r.Recs.Update(ctx, key, func(cur *events.PRCheckRun) *events.PRCheckRun {
		if cur == nil || cur.RunID != runID {
			superseded = true
			return nil
		}
		change(cur)
		return cur
	})
	if err != nil || superseded {
		return nil, err
	}
	return rec, nil
}

// WaitMinimized waits until the record of runID says the bot's earlier
// comments were minimised, and returns it. The caller has begun the run,
// so a record of another run means a newer run replaced it: then it
// returns nil. It returns ctx's error when ctx ends first.
func (r Store) WaitMinimized(ctx context.Context, key, runID string) (*events.PRCheckRun, error) {
	w, err := r.KV.Watch(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("watching PR check record %s: %w", key, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the earlier comments to be minimised: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("watching PR check record %s: the watch ended", key)
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue // nil marks the end of the initial values
			}
			var run events.PRCheckRun
			if err := json.Unmarshal(e.Value(), &run); err != nil {
				return nil, fmt.Errorf("decoding PR check record %s: %w", key, err)
			}
			if run.RunID != runID {
				return nil, nil
			}
			if run.Minimized {
				return &run, nil
			}
		}
	}
}
