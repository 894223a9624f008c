package planner

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// DeadLetterConsumer reads the promoter's dead letters, so a planned entry
// the promoter gave up on without reporting it still finishes its run (as
// failed) and the origin PR's status does not stay pending.
const DeadLetterConsumer = events.ConsumerPlannerDeadLetters

// DeadLetterSpec is the consumer of the promoter's dead letters.
func DeadLetterSpec(cfg Config) events.ConsumerSpec {
	spec := events.Consumer(DeadLetterConsumer) // the promoter's dead letters
	spec.MaxDeliver, spec.AckWait = cfg.MaxDeliver, cfg.AckWait
	return spec
}

// handleDeadLetter records a dead-lettered planned event as a failed entry.
// The planned event is read back from its stream to learn its run and key.
func (s *Service) handleDeadLetter(ctx context.Context, m *bus.Message) error {
	var rec events.ConsumerFailed
	if err := m.Env.DecodeData(&rec); err != nil {
		return bus.Permanent(err)
	}
	if rec.OriginalType != events.TypePromotionPlanned {
		return nil
	}
	st, err := s.conn.JS.Stream(ctx, rec.Stream)
	if err != nil {
		return fmt.Errorf("opening stream %s: %w", rec.Stream, err)
	}
	raw, err := st.GetMsg(ctx, rec.StreamSequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		m.Log.Warn("dead-lettered planned event no longer stored; its run cannot be finished", "stream_seq", rec.StreamSequence)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading dead-lettered message %s/%d: %w", rec.Stream, rec.StreamSequence, err)
	}
	env, err := events.Decode(raw.Data)
	if err != nil {
		return bus.Permanent(err)
	}
	var ev events.PromotionPlanned
	if err := env.DecodeData(&ev); err != nil {
		return bus.Permanent(err)
	}
	m.Log.Error("the promoter gave up on a plan entry", "plan_key", ev.Group.Key, "run_id", ev.RunID, "error", rec.Error)
	return s.entryFinished(ctx, m, env, &events.PromotionEntryFinished{
		RunID: ev.RunID, Key: ev.Group.Key, MergeCommit: ev.MergeCommit,
		Outcome: events.OutcomeFailed, Error: "the promoter gave up: " + rec.Error,
	})
}
