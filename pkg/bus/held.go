package bus

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// held is a message the runtime holds: fetched, and not yet acknowledged,
// redelivered or terminated. While it is held the runtime reports it in
// progress, whether a handler runs it or it waits behind another message
// of its ordering key.
type held struct {
	seq uint64
	key string
	env *events.Envelope // nil when the message is not an envelope
	bad error            // why env is nil

	mu   sync.Mutex
	msg  jetstream.Msg // the latest delivery: acknowledgements go to it
	meta *jetstream.MsgMetadata
}

func (h *held) current() (jetstream.Msg, *jetstream.MsgMetadata) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.msg, h.meta
}

// replace records a redelivery of a message that is still held (its
// progress report came too late, during a NATS fail-over for one): the
// message is not handled twice, and its outcome goes to the new delivery.
func (h *held) replace(m jetstream.Msg, meta *jetstream.MsgMetadata) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msg, h.meta = m, meta
}

// holding is the set of held messages and the queues of their ordering keys.
// A key runs on at most one worker at a time; its other messages wait in
// its queue, in stream order.
type holding struct {
	mu       sync.Mutex
	capacity int
	bySeq    map[uint64]*held
	waiting  map[string][]*held // per busy key, the messages after the running one
	busy     map[string]bool
	ready    chan *held // messages whose key is free, for the workers
	draining bool
	freed    chan struct{} // a slot became free (capacity 1: a wake-up)
}

func newHolding(capacity int) *holding {
	return &holding{
		capacity: capacity,
		bySeq:    map[uint64]*held{},
		waiting:  map[string][]*held{},
		busy:     map[string]bool{},
		ready:    make(chan *held, capacity),
		freed:    make(chan struct{}, 1),
	}
}

// free returns how many more messages may be held.
func (s *holding) free() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capacity - len(s.bySeq)
}

// add takes a fetched message. It returns false for a redelivery of a
// message already held (recorded on the held one instead).
func (s *holding) add(h *held) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.bySeq[h.seq]; ok {
		cur.replace(h.msg, h.meta)
		return false
	}
	s.bySeq[h.seq] = h
	if s.busy[h.key] {
		s.waiting[h.key] = append(s.waiting[h.key], h)
		return true
	}
	s.busy[h.key] = true
	s.ready <- h // never blocks: ready holds up to capacity messages
	return true
}

// done releases h once it is settled and hands its key's next message to
// the workers (unless the runtime is draining).
func (s *holding) done(h *held) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bySeq, h.seq)
	if q := s.waiting[h.key]; len(q) > 0 && !s.draining {
		s.waiting[h.key] = q[1:]
		s.ready <- q[0]
	} else {
		delete(s.waiting, h.key)
		delete(s.busy, h.key)
	}
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

// all returns every held message (for the progress reports).
func (s *holding) all() []*held {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*held, 0, len(s.bySeq))
	for _, h := range s.bySeq {
		out = append(out, h)
	}
	return out
}

// drain stops handing out messages: it returns the messages that wait
// behind a running one, which the caller gives back to JetStream, and
// closes the workers' channel (the fetch loop has stopped adding).
func (s *holding) drain() []*held {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	var out []*held
	for key, q := range s.waiting {
		out = append(out, q...)
		delete(s.waiting, key)
	}
	for _, h := range out {
		delete(s.bySeq, h.seq)
	}
	close(s.ready)
	return out
}

// isDraining reports whether the runtime is shutting down.
func (s *holding) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}
