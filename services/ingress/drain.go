package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
)

// Pauses of the drain while JetStream is still unavailable.
const (
	drainPauseMin = 250 * time.Millisecond
	drainPauseMax = 5 * time.Second
)

// drain stores spooled deliveries on JetStream, oldest first, through the
// same steps as a webhook (look up, body, publish, then record the id), and
// removes each one only after JetStream acknowledged it and its id is
// recorded. A crash in between stores it again on the next start, which
// JetStream drops (the duplicate window on the delivery id) or the record
// answers (the id is known). It returns when ctx is done.
func (h *webhookHandler) drain(ctx context.Context) {
	pause := drainPauseMin
	waiting := false // logged that JetStream is still unavailable
	for {
		index, d, ok, err := h.spool.oldest()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-h.spool.wake:
				continue
			}
		}
		if err != nil {
			h.log.Error("spooled delivery is damaged; removed", "index", index, "error", err)
			h.metrics.dropped.Inc()
			h.removeSpooled(ctx, index)
			continue
		}
		attrs := []any{"delivery_id", clip(d.DeliveryID), "event", clip(d.Event)}
		err = h.drainOne(ctx, d, &attrs)
		switch {
		case err == nil:
			if waiting {
				h.log.Info("JetStream available again; storing spooled deliveries")
			}
			waiting = false
			pause = drainPauseMin
			h.metrics.drained.Inc()
			h.log.Info("spooled delivery stored", attrs...)
			h.removeSpooled(ctx, index)
			continue
		case ctx.Err() != nil:
			return
		case bus.IsUnavailable(err):
			if !waiting {
				h.log.Warn("JetStream still unavailable; spooled deliveries wait", append(attrs, "error", err)...)
			}
			waiting = true
		default:
			var refused *permanentError
			if errors.As(err, &refused) {
				h.log.Error("spooled delivery cannot be stored; removed", append(attrs, "error", err)...)
				h.metrics.dropped.Inc()
				h.removeSpooled(ctx, index)
				continue
			}
			h.log.Warn("storing spooled delivery failed; trying again", append(attrs, "error", err)...)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, drainPauseMax)
	}
}

// permanentError is a spooled delivery that no retry can store.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// drainOne stores one spooled delivery and records its id.
func (h *webhookHandler) drainOne(ctx context.Context, d *spooledDelivery, attrs *[]any) error {
	payload, status, msg := extractPayload(d.Headers.Get("Content-Type"), d.Body)
	if status != 0 {
		return &permanentError{errors.New(msg)}
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		return &permanentError{err}
	}
	*attrs = append(*attrs, "action", head.Action)
	cctx, cancel := context.WithTimeout(ctx, h.cfg.PublishTimeout+publishTransferTime(len(d.Body)))
	defer cancel()
	var repo string
	out, err := h.deliver(cctx, d.Headers, d.DeliveryID, d.Event, d.Body, &head, d.ReceivedAt, &repo)
	if repo != "" {
		*attrs = append(*attrs, "repo", repo)
	}
	if err != nil {
		var step *stepError
		if !errors.As(err, &step) {
			return &permanentError{err}
		}
		return err
	}
	if out == outcomeSeen {
		return nil
	}
	// The entry leaves the spool only once the id is recorded, so a
	// replay after the duplicate window is still recognised.
	if err := h.store.Remember(cctx, d.DeliveryID); err != nil {
		return &stepError{"recording delivery id", err}
	}
	return nil
}

// removeSpooled removes a handled entry, trying again every few seconds
// while the log refuses (storing it again after a restart is harmless).
func (h *webhookHandler) removeSpooled(ctx context.Context, index uint64) {
	for {
		err := h.spool.remove(index)
		if err == nil {
			return
		}
		h.log.Error("removing entry from the spool failed", "index", index, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(drainPauseMax):
		}
	}
}
