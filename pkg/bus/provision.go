package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// What Telefonistka keeps in JetStream (streams, KV buckets, the object
// store) is created with Conn.Replicas replicas when it is missing. When it
// exists, only what Telefonistka owns is updated (see reconcile): replicas,
// retention and limits an operator raised are never lowered, and every
// difference left in place is logged and exposed as
// telefonistka_nats_setting_kept.

// EnsureStreams creates or updates every stream in specs and returns the
// error of each stream that could not be made usable (nil when all are);
// a service fails only if it needs one of them.
func EnsureStreams(ctx context.Context, conn *Conn, specs []events.StreamSpec) map[string]error {
	errs := map[string]error{}
	for _, s := range specs {
		if err := EnsureStream(ctx, conn, s); err != nil {
			errs[s.Name] = err
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// EnsureStream creates the stream of spec or updates the existing one.
func EnsureStream(ctx context.Context, conn *Conn, s events.StreamSpec) error {
	var sources []*jetstream.StreamSource
	for _, src := range s.Sources {
		sources = append(sources, &jetstream.StreamSource{Name: src.Name, FilterSubject: src.FilterSubject})
	}
	want := jetstream.StreamConfig{
		Name:        s.Name,
		Description: s.Description,
		Subjects:    s.Subjects,
		Sources:     sources,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      s.MaxAge,
		Duplicates:  s.Duplicates,
		Replicas:    conn.replicas(),
	}
	return ensure(ctx, conn, "stream", s.Name, want, func(ctx context.Context) error {
		_, err := conn.JS.CreateStream(ctx, want)
		return err
	})
}

// EnsureKV creates a key-value bucket whose entries expire after ttl, or
// updates the existing one, and opens it.
func EnsureKV(ctx context.Context, conn *Conn, bucket string, ttl time.Duration) (jetstream.KeyValue, error) {
	// One value a key (history 1), as CreateKeyValue makes it.
	want := jetstream.StreamConfig{Name: "KV_" + bucket, MaxAge: ttl, Replicas: conn.replicas(), Storage: jetstream.FileStorage,
		MaxMsgsPerSubject: 1}
	err := ensure(ctx, conn, "kv", bucket, want, func(ctx context.Context) error {
		_, err := conn.JS.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: ttl,
			Storage: jetstream.FileStorage, Replicas: conn.replicas()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("KV bucket %s: %w", bucket, err)
	}
	var kv jetstream.KeyValue
	err = Call(ctx, conn.CallTimeout, func(ctx context.Context) error {
		var err error
		kv, err = conn.JS.KeyValue(ctx, bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening KV bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// EnsureBodies creates or updates the object store bucket for large webhook
// bodies (objects live as long as the deliveries referring to them) and
// opens it.
func EnsureBodies(ctx context.Context, conn *Conn) (jetstream.ObjectStore, error) {
	bucket := events.BucketBodies
	want := jetstream.StreamConfig{Name: "OBJ_" + bucket, MaxAge: events.DeliveriesTTL, Replicas: conn.replicas(), Storage: jetstream.FileStorage}
	err := ensure(ctx, conn, "object_store", bucket, want, func(ctx context.Context) error {
		_, err := conn.JS.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      bucket,
			Description: "webhook bodies too large to travel inside a delivery event",
			TTL:         events.DeliveriesTTL,
			Storage:     jetstream.FileStorage,
			Replicas:    conn.replicas(),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", bucket, err)
	}
	var obs jetstream.ObjectStore
	err = Call(ctx, conn.CallTimeout, func(ctx context.Context) error {
		var err error
		obs, err = conn.JS.ObjectStore(ctx, bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening object store %s: %w", bucket, err)
	}
	return obs, nil
}

// ensure creates the stream want.Name with create when it is missing, or
// reconciles the existing one with want.
func ensure(ctx context.Context, conn *Conn, kind, name string, want jetstream.StreamConfig, create func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		var st jetstream.Stream
		err := Call(ctx, conn.CallTimeout, func(ctx context.Context) error {
			var err error
			st, err = conn.JS.Stream(ctx, want.Name)
			return err
		})
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			err = Call(ctx, conn.CallTimeout, create)
			if err == nil {
				conn.Log.Info("created in JetStream", "kind", kind, "name", name, "replicas", want.Replicas)
				if needsLeaderReads(kind, want.Replicas) {
					continue // created with direct gets: turned off below
				}
				return nil
			}
			if attempt < 3 && alreadyExists(err) {
				continue // another replica created it meanwhile: reconcile
			}
			return explain(want, "creating", err)
		}
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", want.Name, err)
		}
		cur := st.CachedInfo().Config
		next, update, kept, err := reconcile(cur, want)
		if err != nil {
			return err
		}
		if leaderReads(kind, &next) {
			update = true
		}
		conn.Metrics.keptSettings(kind, name, kept)
		for _, k := range kept {
			conn.Log.Info("keeping a JetStream setting that differs from Telefonistka's", "kind", kind, "name", name,
				"setting", k.Setting, "have", k.Have, "telefonistka", k.Want)
		}
		if !update {
			return nil
		}
		if err := Call(ctx, conn.CallTimeout, func(ctx context.Context) error {
			_, err := conn.JS.UpdateStream(ctx, next)
			return err
		}); err != nil {
			return explain(want, "updating", err)
		}
		conn.Log.Info("updated in JetStream", "kind", kind, "name", name, "replicas", next.Replicas,
			"max_age", next.MaxAge.String(), "subjects", next.Subjects)
		return nil
	}
}

// JetStream API error codes (nats-server's jetstream_errors_generated.go)
// that explain names.
const (
	errClusterNoPeers        jetstream.ErrorCode = 10005
	errSystemUnavailable     jetstream.ErrorCode = 10008
	errInsufficientResources jetstream.ErrorCode = 10023
	errSubjectOverlap        jetstream.ErrorCode = 10065
	errReplicasNotSupported  jetstream.ErrorCode = 10074
)

func alreadyExists(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || errors.Is(err, jetstream.ErrBucketExists)
}

// explain turns a refused create or update into an error naming the
// stream, the setting and the fix.
func explain(want jetstream.StreamConfig, doing string, err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode {
		case errSubjectOverlap:
			return &ConflictError{Stream: want.Name, Setting: "subjects", Have: "taken by another stream",
				Need: fmt.Sprint(want.Subjects), Fix: "remove these subjects from the other stream (nats stream info, nats stream edit)"}
		case errReplicasNotSupported, errInsufficientResources, errClusterNoPeers:
			return &ConflictError{Stream: want.Name, Setting: "replicas", Have: api.Description,
				Need: fmt.Sprint(want.Replicas), Fix: "set TELEFONISTKA_STREAM_REPLICAS to at most the number of JetStream servers (1 for a single server)"}
		}
	}
	return fmt.Errorf("%s stream %s: %w", doing, want.Name, err)
}
