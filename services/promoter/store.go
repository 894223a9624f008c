package promoter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// entryRecord is what the promoter remembers about one plan entry (one
// planned event), keyed by the entry id.
type entryRecord struct {
	// Started is set before the first write to GitHub; a handler that finds
	// it set (and Done not) recovers from an interrupted attempt.
	Started bool `json:"started,omitempty"`
	// AutoMergeCommented: the auto-merge comment is on the origin PR.
	AutoMergeCommented bool `json:"autoMergeCommented,omitempty"`
	// Done holds the finished entry's outcome; replays republish it.
	Done     bool                           `json:"done,omitempty"`
	Finished *events.PromotionEntryFinished `json:"finished,omitempty"`
}

// records is a KV bucket of JSON records.
type records[T any] struct {
	kv   jetstream.KeyValue
	what string
}

func openRecords[T any](ctx context.Context, js jetstream.JetStream, bucket, what string) (*records[T], error) {
	kv, err := bus.EnsureKV(ctx, js, bucket, events.PromotionRecordTTL)
	if err != nil {
		return nil, err
	}
	return &records[T]{kv: kv, what: what}, nil
}

// get returns the record at key, or nil.
func (r *records[T]) get(ctx context.Context, key string) (*T, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", r.what, key, err)
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", r.what, key, err)
	}
	return &v, nil
}

// put stores the record at key (last writer wins; the group lock
// serialises writers of one entry or branch).
func (r *records[T]) put(ctx context.Context, key string, v *T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return bus.Permanent(err)
	}
	if _, err := r.kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("storing %s %s: %w", r.what, key, err)
	}
	return nil
}

// branchRecord is the last commit the promoter wrote (or was about to
// write) to a promotion branch. It is stored before the branch moves, so a
// head equal to it is the promoter's own even when the PR body does not
// say so yet.
type branchRecord struct {
	Commit string `json:"commit"`
}

// hashKey makes a KV key of parts.
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

func branchKey(repo events.Repo, branch string) string { return hashKey(repo.String(), branch) }
