package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// EnsureConsumer creates the durable consumer of spec, or updates the one
// that exists. The delivery limit is enforced by the runtime (so a
// dead-letter event can be written), not by the server.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, spec events.ConsumerSpec, concurrency int) (jetstream.Consumer, error) {
	return ensureConsumer(ctx, js, spec, concurrency, 0)
}

// ensureConsumer is EnsureConsumer; a consumer it creates starts at stream
// sequence from (0: the start of the stream). An existing consumer keeps
// where it started (JetStream cannot change that).
func ensureConsumer(ctx context.Context, js jetstream.JetStream, spec events.ConsumerSpec, concurrency int, from uint64) (jetstream.Consumer, error) {
	ackWait := spec.AckWait
	if ackWait <= 0 {
		ackWait = defaultAckWait
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        spec.Durable,
		Description:    "telefonistka " + spec.Durable,
		FilterSubjects: spec.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        ackWait,
		MaxDeliver:     -1,
		MaxAckPending:  concurrency * 64,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	var err error
	for range 3 {
		var cur jetstream.Consumer
		cur, err = js.Consumer(ctx, spec.Stream, spec.Durable)
		switch {
		case err == nil:
			info := cur.CachedInfo()
			cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = info.Config.DeliverPolicy, info.Config.OptStartSeq, info.Config.OptStartTime
			var c jetstream.Consumer
			if c, err = js.UpdateConsumer(ctx, spec.Stream, cfg); err == nil {
				return c, nil
			}
			if !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return nil, fmt.Errorf("updating consumer %s on %s: %w", spec.Durable, spec.Stream, err)
			}
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			var c jetstream.Consumer
			if c, err = js.CreateConsumer(ctx, spec.Stream, cfg); err == nil {
				return c, nil
			}
			if !errors.Is(err, jetstream.ErrConsumerExists) {
				return nil, fmt.Errorf("creating consumer %s on %s: %w", spec.Durable, spec.Stream, err)
			}
		default:
			return nil, fmt.Errorf("reading consumer %s on %s: %w", spec.Durable, spec.Stream, err)
		}
		// Another replica created or deleted it meanwhile: look again.
	}
	return nil, fmt.Errorf("creating consumer %s on %s: %w", spec.Durable, spec.Stream, err)
}

// consumerMayBeGone reports whether a pull failed in a way a deleted
// consumer (or stream) fails.
func consumerMayBeGone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrNoResponders)
}

// recover re-creates the consumer if it is gone, starting after the last
// stream sequence known acknowledged (what lies between is handled again;
// handlers are idempotent). It returns an error once the consumer could not
// be re-created for RecoverFor; until then Health reports it lost.
func (r *runner) recover(ctx context.Context) error {
	name := r.opts.Spec.Durable
	deadline := time.Now().Add(r.opts.RecoverFor)
	for {
		cctx, cancel := CallContext(ctx, r.opts.CallTimeout)
		_, err := r.js.Consumer(cctx, r.opts.Spec.Stream, name)
		cancel()
		switch {
		case err == nil:
			r.opts.Health.Set("consumer "+name, nil)
			return nil // it is there (a pull failed for another reason)
		case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound):
			r.mu.Lock()
			from := r.ackFloor + 1
			r.mu.Unlock()
			r.opts.Health.Set("consumer "+name, fmt.Errorf("consumer %s on stream %s was deleted: %w", name, r.opts.Spec.Stream, err))
			cctx, cancel := CallContext(ctx, r.opts.CallTimeout)
			var cons jetstream.Consumer
			cons, err = ensureConsumer(cctx, r.js, r.opts.Spec, r.opts.Concurrency, from)
			cancel()
			if err == nil {
				r.setConsumer(cons)
				r.opts.Health.Set("consumer "+name, nil)
				r.opts.Metrics.recreated(name)
				r.opts.Log.Error("consumer was deleted; re-created it", "consumer", name, "stream", r.opts.Spec.Stream,
					"from_stream_seq", from)
				return nil
			}
		}
		if time.Now().After(deadline) {
			err = fmt.Errorf("consumer %s on stream %s is gone and could not be re-created within %s: %w",
				name, r.opts.Spec.Stream, r.opts.RecoverFor, err)
			r.opts.Health.Set("consumer "+name, err)
			return err
		}
		r.opts.Log.Warn("consumer unavailable; retrying", "consumer", name, "error", err)
		sleep(ctx, time.Second)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// watchLag reads the consumer's state every LagInterval: the lag metrics,
// and the acknowledged floor a re-created consumer starts after.
func (r *runner) watchLag(ctx context.Context) {
	t := time.NewTicker(r.opts.LagInterval)
	defer t.Stop()
	for {
		cctx, cancel := CallContext(ctx, r.opts.CallTimeout)
		info, err := r.consumer().Info(cctx)
		cancel()
		if err == nil {
			r.noteInfo(info)
			r.opts.Metrics.lag(r.opts.Spec.Durable, info)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
