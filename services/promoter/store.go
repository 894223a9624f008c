package promoter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

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
	// ForeignNoted: the PR (and, with auto-merge, the origin PR) says that
	// someone else pushed to the promotion PR's branch.
	ForeignNoted bool `json:"foreignNoted,omitempty"`
	// MergeRetries counts GitHub's "try the merge again" answers;
	// MergeRetrySince is the first. The merge is retried by redelivery.
	MergeRetries    int       `json:"mergeRetries,omitempty"`
	MergeRetrySince time.Time `json:"mergeRetrySince,omitzero"`
	// Opened is the pr_opened fact of the PR this entry opened, kept for
	// the report when a later attempt only updates that PR.
	Opened *events.PromotionPROpened `json:"opened,omitempty"`
	// Done holds the finished entry's outcome; replays republish it.
	Done     bool                           `json:"done,omitempty"`
	Finished *events.PromotionEntryFinished `json:"finished,omitempty"`
}

// records is a KV bucket of JSON records, read without revisions (the
// group lease serialises writers of one entry or branch).
type records[T any] struct{ *bus.Records[T] }

func openRecords[T any](ctx context.Context, conn *bus.Conn, bucket, what string) (*records[T], error) {
	r, err := bus.OpenRecords[T](ctx, conn, bucket, events.PromotionRecordTTL, what)
	if err != nil {
		return nil, err
	}
	return &records[T]{r}, nil
}

// get returns the record at key, or nil.
func (r *records[T]) get(ctx context.Context, key string) (*T, error) {
	v, _, err := r.Get(ctx, key)
	return v, err
}

// put stores the record at key (last writer wins).
func (r *records[T]) put(ctx context.Context, key string, v *T) error { return r.Put(ctx, key, v) }

// branchRecord is the last commit the promoter wrote (or was about to
// write) to a promotion branch. It is stored before the branch moves, so a
// head equal to it is the promoter's own even when the PR body does not
// say so yet.
type branchRecord struct {
	Commit string `json:"commit"`
}

// groupRecord is the newest source commit (by ancestry on the default
// branch) a supersede promotion group was built at, whether that build
// opened, updated or closed a PR, or found the targets in sync. It outlives
// the group's PR: once that PR is merged it is the source commit the
// targets on the default branch hold.
type groupRecord struct {
	SourceCommit string `json:"sourceCommit"`
}

func groupRecordKey(repo events.Repo, planKey string) string {
	return hashKey("group", repo.String(), planKey)
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
