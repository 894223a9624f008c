package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Pauses of the drain while JetStream is still unavailable.
const (
	drainPauseMin = 250 * time.Millisecond
	drainPauseMax = 5 * time.Second
)

// drainBatch is the most entries the drain stores at once: their lookups
// and id records run concurrently, their publishes are sent one after the
// other without waiting for each acknowledgement.
const drainBatch = 256

// asyncStore is a deliveryStore that publishes without waiting for each
// acknowledgement in turn; with it the drain keeps up with more deliveries
// a second than one round trip each allows.
type asyncStore interface {
	StoreAsync(ctx context.Context, subject string, env *events.Envelope) (wait func() (duplicate bool, err error))
}

// drain stores spooled deliveries on JetStream, oldest first, through the
// same steps as a webhook (look up, body, publish, then record the id), and
// marks each one stored only after JetStream acknowledged it and its id is
// recorded. A crash in between stores it again on the next start, which
// JetStream drops (the duplicate window on the delivery id) or the record
// answers (the id is known). It returns when ctx is done.
func (h *webhookHandler) drain(ctx context.Context) {
	pause := drainPauseMin
	waiting := false // logged that JetStream is still unavailable
	for {
		n, empty, err := h.drainNext(ctx)
		if empty {
			h.release()
			var retry <-chan time.Time
			if h.spool.storedLeft() {
				retry = time.After(releaseEvery)
			}
			select {
			case <-ctx.Done():
				return
			case <-h.spool.wake:
			case <-retry:
			}
			continue
		}
		if n > 0 {
			if waiting {
				h.log.Info("JetStream available again; storing spooled deliveries")
			}
			waiting = false
			pause = drainPauseMin
		}
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return
		case bus.IsUnavailable(err):
			if !waiting {
				h.log.Warn("JetStream still unavailable; spooled deliveries wait", "error", err)
			}
			waiting = true
		default:
			h.log.Warn("storing spooled delivery failed; trying again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, drainPauseMax)
	}
}

// flush stores what the spool holds until it is empty, a try fails or ctx
// is done; what is left is stored at the next start.
func (h *webhookHandler) flush(ctx context.Context) {
	for ctx.Err() == nil {
		_, empty, err := h.drainNext(ctx)
		if empty {
			return
		}
		if err != nil {
			left, _ := h.spool.usage()
			h.log.Warn("stopping with deliveries in the spool; they are stored at the next start", "entries", left, "error", err)
			return
		}
	}
}

// drainNext stores the next batch of the spool and marks what it stored;
// n is how many entries it handled, empty that there were none.
func (h *webhookHandler) drainNext(ctx context.Context) (n int, empty bool, err error) {
	batch := h.spool.pending(drainBatch)
	if len(batch) == 0 {
		return 0, true, nil
	}
	n, err = h.drainSome(ctx, batch)
	if n > 0 {
		h.spool.markStored(batch[n-1])
	}
	return n, false, err
}

// release lets the stored entries of an idle spool go, logging a failure
// (the entries are then stored again after a restart, which is harmless).
func (h *webhookHandler) release() {
	if err := h.spool.release(false); err != nil {
		h.log.Error("removing stored entries from the spool failed", "error", err)
	}
}

// drainItem is one spooled delivery on its way to JetStream.
type drainItem struct {
	d       *spooledDelivery
	head    payloadHead
	attrs   []any
	p       *prepared // nil: dropped, or its id is known
	dropped bool
	err     error
}

// drainSome stores the entries of batch in their order and returns how many
// of them, from the first, are done: stored, known already, or dropped
// because no retry can store them. err is what stopped it before the end.
func (h *webhookHandler) drainSome(ctx context.Context, batch []spoolEntry) (int, error) {
	items := make([]*drainItem, len(batch))
	bodies := 0
	for i, e := range batch {
		it := &drainItem{d: e.d}
		items[i] = it
		if e.err != nil {
			h.log.Error("spooled delivery is damaged; removed", "index", e.index, "error", e.err)
			it.dropped = true
			continue
		}
		it.attrs = []any{"delivery_id", clip(e.d.DeliveryID), "event", clip(e.d.Event)}
		status, msg := 0, ""
		if e.d.Head != nil { // parsed when it was received
			it.head = *e.d.Head
		} else {
			var payload []byte
			payload, status, msg = extractPayload(e.d.Headers.Get("Content-Type"), e.d.Body)
			if status == 0 {
				if err := json.Unmarshal(payload, &it.head); err != nil {
					msg = err.Error()
					status = 400
				}
			}
		}
		if status != 0 {
			h.log.Error("spooled delivery cannot be stored; removed", append(it.attrs, "error", msg)...)
			it.dropped = true
			continue
		}
		it.attrs = append(it.attrs, "action", it.head.Action)
		if len(e.d.Body) > events.InlineBodyLimit {
			bodies += len(e.d.Body)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PublishTimeout+publishTransferTime(bodies))
	defer cancel()

	// Look the ids up (and store large bodies) concurrently.
	h.each(items, func(it *drainItem) {
		var repo string
		it.p, it.err = h.prepare(ctx, it.d.Headers, it.d.DeliveryID, it.d.Event, it.d.Body, &it.head, it.d.ReceivedAt, &repo)
		if repo != "" {
			it.attrs = append(it.attrs, "repo", repo)
		}
		var step *stepError
		if it.err != nil && !errors.As(it.err, &step) {
			h.log.Error("spooled delivery cannot be stored; removed", append(it.attrs, "error", it.err)...)
			it.dropped, it.err = true, nil
		}
	})
	n := done(items)

	// Publish in order, up to the first failure.
	h.publish(ctx, items[:n])
	n = done(items[:n])

	// Record the ids of what is now stored.
	h.each(items[:n], func(it *drainItem) {
		if it.p == nil {
			return
		}
		if err := h.store.Remember(ctx, it.d.DeliveryID); err != nil {
			it.err = &stepError{"recording delivery id", err}
		}
	})
	n = done(items[:n])

	for _, it := range items[:n] {
		if it.dropped {
			h.metrics.dropped.Inc()
			continue
		}
		h.metrics.drained.Inc()
		level := slog.LevelInfo
		if h.answerAfterSpool { // every delivery passes here
			level = slog.LevelDebug
		}
		h.log.Log(ctx, level, "spooled delivery stored", it.attrs...)
	}
	if n < len(items) {
		return n, items[n].err
	}
	return n, nil
}

// done returns how many items from the first have no error.
func done(items []*drainItem) int {
	for i, it := range items {
		if it.err != nil {
			return i
		}
	}
	return len(items)
}

// drainConcurrency bounds the calls the drain has in flight. More would
// not store faster, and a burst of hundreds of runnable goroutines queues
// ahead of the webhooks being answered (the scheduler has no priorities).
const drainConcurrency = 8

// each runs f on every item not dropped, drainConcurrency at a time, and
// waits.
func (h *webhookHandler) each(items []*drainItem, f func(*drainItem)) {
	next := make(chan *drainItem)
	var wg sync.WaitGroup
	for range min(drainConcurrency, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				f(it)
			}
		}()
	}
	for _, it := range items {
		if !it.dropped {
			next <- it
		}
	}
	close(next)
	wg.Wait()
}

// publish stores the prepared items on JetStream in their order: sent one
// after the other, then every acknowledgement awaited.
func (h *webhookHandler) publish(ctx context.Context, items []*drainItem) {
	async, ok := h.store.(asyncStore)
	if !ok {
		for _, it := range items {
			if it.p == nil {
				continue
			}
			if _, err := h.store.Store(ctx, it.p.subject, it.p.env); err != nil {
				it.err = &stepError{"publishing delivery", err}
				return
			}
		}
		return
	}
	waits := make([]func() (bool, error), len(items))
	for i, it := range items {
		if it.p != nil {
			waits[i] = async.StoreAsync(ctx, it.p.subject, it.p.env)
		}
	}
	for i, it := range items {
		if waits[i] == nil {
			continue
		}
		if _, err := waits[i](); err != nil {
			// The rest are awaited all the same, and stored again later.
			it.err = &stepError{"publishing delivery", err}
		}
	}
}
