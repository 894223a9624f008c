package fanout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// errDeliveryGone means the original delivery is no longer in its stream
// (or the sequence holds another message), so there is nothing to forward.
var errDeliveryGone = errors.New("original delivery is no longer in the stream")

// deliveryStore reads original GitHub deliveries by stream sequence. The
// jobs of one push all point at the same delivery, so it keeps recent ones
// in memory (up to budget bytes of body, in a githubapi.Cache) and shares
// one read among concurrent callers.
type deliveryStore struct {
	js     jetstream.JetStream
	cached *githubapi.Cache[*events.GitHubDelivery]

	mu      sync.Mutex
	streams map[string]jetstream.Stream
}

// deliveryCacheBudget is how many bytes of bodies are kept in memory.
const deliveryCacheBudget = 64 << 20

func newDeliveryStore(js jetstream.JetStream, budget int) *deliveryStore {
	return &deliveryStore{js: js, streams: map[string]jetstream.Stream{},
		cached: githubapi.NewSizedCache(budget, func(d *events.GitHubDelivery) int { return len(d.Body) })}
}

func deliveryKey(stream string, seq uint64) string { return stream + "/" + strconv.FormatUint(seq, 10) }

// get returns the delivery stored at seq of stream; its DeliveryID must be
// id, or the error wraps errDeliveryGone.
func (s *deliveryStore) get(ctx context.Context, stream string, seq uint64, id string) (*events.GitHubDelivery, error) {
	d, err := s.cached.Get(deliveryKey(stream, seq), func() (*events.GitHubDelivery, error) { return s.fetch(ctx, stream, seq) })
	if err != nil {
		return nil, err
	}
	if d.DeliveryID != id {
		return nil, fmt.Errorf("%s sequence %d holds delivery %q, not %q: %w", stream, seq, d.DeliveryID, id, errDeliveryGone)
	}
	return d, nil
}

// fetch reads one message through a short-lived ordered consumer starting
// at seq: it hands over the stored bytes as they are, where the stream's
// get-message API would wrap a body of many megabytes in another layer of
// JSON and base64.
func (s *deliveryStore) fetch(ctx context.Context, stream string, seq uint64) (*events.GitHubDelivery, error) {
	st, err := s.stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	if gone, err := s.beyond(ctx, st, seq); err != nil {
		return nil, fmt.Errorf("reading %s state: %w", stream, err)
	} else if gone {
		return nil, fmt.Errorf("%s sequence %d: %w", stream, seq, errDeliveryGone)
	}
	oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       seq,
		InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s sequence %d: %w", stream, seq, err)
	}
	wait := fetchWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	m, err := oc.Next(jetstream.FetchMaxWait(max(wait, time.Millisecond)))
	if err != nil {
		return nil, fmt.Errorf("reading %s sequence %d: %w", stream, seq, err)
	}
	meta, err := m.Metadata()
	if err != nil {
		return nil, fmt.Errorf("reading %s sequence %d: %w", stream, seq, err)
	}
	if meta.Sequence.Stream != seq {
		// The message was deleted; the consumer moved on to the next one.
		return nil, fmt.Errorf("%s sequence %d: %w", stream, seq, errDeliveryGone)
	}
	env, err := events.Decode(m.Data())
	if err != nil {
		return nil, fmt.Errorf("%s sequence %d: %w: %w", stream, seq, errDeliveryGone, err)
	}
	var d events.GitHubDelivery
	if err := env.DecodeData(&d); err != nil {
		return nil, fmt.Errorf("%s sequence %d: %w: %w", stream, seq, errDeliveryGone, err)
	}
	// A large body lives in the object store.
	if err := bus.ResolveDelivery(ctx, s.js, &d); err != nil {
		if bus.IsPermanent(err) {
			return nil, fmt.Errorf("%s sequence %d: %w: %w", stream, seq, errDeliveryGone, err)
		}
		return nil, err
	}
	return &d, nil
}

// fetchWait bounds the wait for the message.
const fetchWait = 10 * time.Second

// beyond reports whether seq lies outside what the stream holds.
func (s *deliveryStore) beyond(ctx context.Context, st jetstream.Stream, seq uint64) (bool, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return false, err
	}
	return seq < info.State.FirstSeq || seq > info.State.LastSeq, nil
}

func (s *deliveryStore) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	s.mu.Lock()
	st, ok := s.streams[name]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := s.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", name, errDeliveryGone)
	}
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", name, err)
	}
	s.mu.Lock()
	s.streams[name] = st
	s.mu.Unlock()
	return st, nil
}
