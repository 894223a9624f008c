package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// runStore keeps the PR-check run records (events.PRCheckRun) in
// events.BucketPRChecks. Updates are compare-and-set, so the checkers of a
// run can record their results concurrently.
type runStore struct{ kv jetstream.KeyValue }

// get returns the record under key, or nil.
func (r runStore) get(ctx context.Context, key string) (*events.PRCheckRun, uint64, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading PR check record %s: %w", key, err)
	}
	var run events.PRCheckRun
	if err := json.Unmarshal(e.Value(), &run); err != nil {
		return nil, 0, fmt.Errorf("decoding PR check record %s: %w", key, err)
	}
	return &run, e.Revision(), nil
}

// update applies change to the record under key and stores the result,
// retrying when another writer got there first. change gets nil when there
// is no record; it returns the record to store, or nil to store nothing.
// update returns what is stored afterwards (the current record when change
// stored nothing).
func (r runStore) update(ctx context.Context, key string, change func(*events.PRCheckRun) *events.PRCheckRun) (*events.PRCheckRun, error) {
	for attempt := 0; attempt < 20; attempt++ {
		cur, rev, err := r.get(ctx, key)
		if err != nil {
			return nil, err
		}
		next := change(cur)
		if next == nil {
			return cur, nil
		}
		data, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encoding PR check record %s: %w", key, err)
		}
		if cur == nil {
			_, err = r.kv.Create(ctx, key, data)
		} else {
			_, err = r.kv.Update(ctx, key, data, rev)
		}
		if isConflict(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("writing PR check record %s: %w", key, err)
		}
		return next, nil
	}
	return nil, fmt.Errorf("writing PR check record %s: too many concurrent updates", key)
}

func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// begin makes sure the record of run exists: a record of another run (an
// older one for the same head) is replaced.
func (r runStore) begin(ctx context.Context, key string, fresh *events.PRCheckRun) (*events.PRCheckRun, error) {
	return r.update(ctx, key, func(cur *events.PRCheckRun) *events.PRCheckRun {
		if cur != nil && cur.RunID == fresh.RunID {
			return nil
		}
		return fresh
	})
}

// modify changes the record of run runID; when the record belongs to
// another run (a newer one replaced it), nothing is written and nil is
// returned.
func (r runStore) modify(ctx context.Context, key, runID string, change func(*events.PRCheckRun)) (*events.PRCheckRun, error) {
	superseded := false
	rec, err := r.update(ctx, key, func(cur *events.PRCheckRun) *events.PRCheckRun {
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

// stateStore keeps each PR's last drift result (events.DriftState).
type stateStore struct{ kv jetstream.KeyValue }

func (s stateStore) get(ctx context.Context, key string) (*events.DriftState, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading drift state %s: %w", key, err)
	}
	var st events.DriftState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return nil, fmt.Errorf("decoding drift state %s: %w", key, err)
	}
	return &st, nil
}

func (s stateStore) put(ctx context.Context, key string, st events.DriftState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding drift state %s: %w", key, err)
	}
	if _, err := s.kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("writing drift state %s: %w", key, err)
	}
	return nil
}
