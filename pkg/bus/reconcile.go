package bus

import (
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Kept is a setting of an existing stream (KV bucket, object store) that
// differs from what Telefonistka would create and that it leaves alone:
// an operator raised it, or it is not Telefonistka's to change.
type Kept struct {
	Setting string // "replicas", "max_age", ...
	Have    string // what the stream has
	Want    string // what Telefonistka would create
}

// ConflictError is an existing stream whose setting keeps Telefonistka from
// working and that it will not change on its own.
type ConflictError struct {
	Stream  string
	Setting string
	Have    string
	Need    string
	Fix     string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("stream %s: %s is %s, Telefonistka needs %s; to fix it, %s", e.Stream, e.Setting, e.Have, e.Need, e.Fix)
}

// reconcile returns the configuration to update an existing stream cur to,
// given the configuration Telefonistka wants, and whether an update is
// needed. Telefonistka owns the subjects it needs (missing ones are added)
// and the description. Replicas, max age and the duplicate window of want
// are minimums: a lower value is raised, a higher one (or no limit) an
// operator set is kept. Limits Telefonistka does not set are left as they
// are. A zero field of want has no say. Every difference left in place is
// returned; a difference Telefonistka cannot work with is a *ConflictError.
func reconcile(cur, want jetstream.StreamConfig) (jetstream.StreamConfig, bool, []Kept, error) {
	next := cur
	var kept []Kept
	if cur.Retention != want.Retention {
		return cur, false, nil, &ConflictError{Stream: cur.Name, Setting: "retention", Have: cur.Retention.String(), Need: want.Retention.String(),
			Fix: fmt.Sprintf("back up and delete the stream (nats stream rm %s) so Telefonistka creates it again, or create it with --retention limits", cur.Name)}
	}
	for _, s := range want.Subjects {
		if !slices.Contains(next.Subjects, s) {
			next.Subjects = append(slices.Clone(next.Subjects), s)
		}
	}
	for _, src := range want.Sources {
		if !slices.ContainsFunc(next.Sources, func(c *jetstream.StreamSource) bool { return sameSource(c, src) }) {
			next.Sources = append(slices.Clone(next.Sources), src)
		}
	}
	if want.Description != "" {
		next.Description = want.Description
	}
	raiseInt(&next.Replicas, want.Replicas, "replicas", &kept)
	raiseAge(&next.MaxAge, want.MaxAge, "max_age", &kept)
	raiseAge(&next.Duplicates, want.Duplicates, "duplicate_window", &kept)
	if next.Duplicates > next.MaxAge && next.MaxAge > 0 {
		next.Duplicates = next.MaxAge
	}
	if cur.Storage != want.Storage {
		kept = append(kept, Kept{Setting: "storage", Have: cur.Storage.String(), Want: want.Storage.String()})
	}
	for _, l := range []struct {
		name string
		v    int64
	}{{"max_msgs", cur.MaxMsgs}, {"max_bytes", cur.MaxBytes}, {"max_msgs_per_subject", cur.MaxMsgsPerSubject}} {
		if l.v > 0 && l.v != wantLimit(want, l.name) {
			kept = append(kept, Kept{Setting: l.name, Have: fmt.Sprint(l.v), Want: fmt.Sprint(wantLimit(want, l.name))})
		}
	}
	return next, !sameConfig(cur, next), kept, nil
}

// leaderReads turns off direct gets (AllowDirect) of a replicated KV bucket
// or object store, and reports whether it changed cfg. A direct get is
// answered by any replica, and a follower that has not applied the newest
// writes yet (one just restarted and catching up, or one a moment behind)
// answers with an older value or "not found": a service reading a record
// it has just written (a PR check run, a promotion run) would take it for
// another's and stop. Without direct gets, reads are answered by the
// stream's leader. A bucket of one replica keeps them (nothing to lag).
func leaderReads(kind string, cfg *jetstream.StreamConfig) bool {
	if !needsLeaderReads(kind, cfg.Replicas) || !cfg.AllowDirect {
		return false
	}
	cfg.AllowDirect = false
	return true
}

// needsLeaderReads reports whether a stream of kind ("stream", "kv",
// "object_store") with replicas is read from its leader only.
func needsLeaderReads(kind string, replicas int) bool { return kind != "stream" && replicas > 1 }

func wantLimit(want jetstream.StreamConfig, name string) int64 {
	switch name {
	case "max_msgs":
		return want.MaxMsgs
	case "max_bytes":
		return want.MaxBytes
	}
	return want.MaxMsgsPerSubject
}

func raiseInt(have *int, want int, setting string, kept *[]Kept) {
	switch {
	case want == 0 || *have == want:
	case *have < want:
		*have = want
	default:
		*kept = append(*kept, Kept{Setting: setting, Have: fmt.Sprint(*have), Want: fmt.Sprint(want)})
	}
}

// raiseAge raises a duration limit where 0 means "no limit".
func raiseAge(have *time.Duration, want time.Duration, setting string, kept *[]Kept) {
	switch {
	case want == 0 || *have == want:
	case *have != 0 && *have < want:
		*have = want
	default:
		h := "unlimited"
		if *have != 0 {
			h = have.String()
		}
		*kept = append(*kept, Kept{Setting: setting, Have: h, Want: want.String()})
	}
}

func sameConfig(a, b jetstream.StreamConfig) bool {
	return slices.Equal(a.Subjects, b.Subjects) && a.Description == b.Description && a.Replicas == b.Replicas &&
		a.MaxAge == b.MaxAge && a.Duplicates == b.Duplicates && slices.EqualFunc(a.Sources, b.Sources, sameSource)
}

// sameSource compares what Telefonistka sets of a stream source.
func sameSource(a, b *jetstream.StreamSource) bool {
	return a.Name == b.Name && a.FilterSubject == b.FilterSubject
}
