package bus

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// call runs the handler, turning a panic into a retryable error.
func (r *runner) call(ctx context.Context, msg *Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			msg.Log.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return r.handler(ctx, msg)
}

// settle acknowledges, redelivers or dead-letters h according to herr, and
// returns the outcome for metrics. It answers the latest delivery of h.
func (r *runner) settle(ctx context.Context, h *held, msg *Message, herr error, log *slog.Logger) string {
	m, meta := h.current()
	if herr == nil {
		actx, cancel := CallContext(ctx, r.opts.CallTimeout)
		defer cancel()
		if err := m.DoubleAck(actx); err != nil {
			log.Warn("acknowledging message", "error", err)
		}
		return "ack"
	}
	if IsPermanent(herr) {
		log.Error("handler failed permanently", "error", herr)
		r.deadLetter(ctx, h, msg.Env, events.FailedPermanent, herr, log)
		return "dead_letter"
	}
	if msg.Final(herr) {
		log.Error("giving up after maximum deliveries", "error", herr)
		r.deadLetter(ctx, h, msg.Env, events.FailedMaxDeliveries, herr, log)
		return "dead_letter"
	}
	delay, asked := RetryDelay(herr)
	if !asked {
		delay = r.opts.Backoff(meta.NumDelivered)
	}
	log.Warn("handler failed; will retry", "error", herr, "retry_in", delay.String())
	if err := m.NakWithDelay(delay); err != nil {
		log.Warn("requesting redelivery", "error", err)
	}
	return "retry"
}

// deadLetter records h on the consumer's dead-letter subject and terminates
// it. If the record cannot be written, the message is redelivered instead, so
// nothing is dropped silently.
func (r *runner) deadLetter(ctx context.Context, h *held, env *events.Envelope, reason string, cause error, log *slog.Logger) {
	m, meta := h.current()
	rec := &events.ConsumerFailed{
		Consumer:       r.opts.Spec.Durable,
		Stream:         meta.Stream,
		StreamSequence: meta.Sequence.Stream,
		Subject:        m.Subject(),
		Deliveries:     meta.NumDelivered,
		Reason:         reason,
		Error:          cause.Error(),
	}
	fm := events.Meta{
		ID:     events.DeriveID("deadletter", r.opts.Spec.Durable, meta.Stream, fmt.Sprint(meta.Sequence.Stream)),
		Source: r.opts.Service,
	}
	if env != nil {
		rec.OriginalID, rec.OriginalType = env.ID, env.Type
		fm.CorrelationID, fm.CausationID, fm.Repo, fm.PR = env.CorrelationID, env.ID, env.Repo, env.PR
	}
	out, err := events.New(fm, rec)
	if err == nil {
		_, err = r.pub.PublishOn(ctx, events.DeadLetterSubject(r.opts.Spec.Durable, fm.Repo), out)
	}
	if err != nil {
		log.Error("writing dead-letter record; will redeliver", "error", err)
		_ = m.NakWithDelay(r.opts.Backoff(meta.NumDelivered))
		return
	}
	r.opts.Metrics.deadLettered(r.opts.Spec.Durable, reason)
	if err := m.TermWithReason(reason); err != nil {
		log.Warn("terminating message", "error", err)
	}
}
