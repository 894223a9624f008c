package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Publisher publishes envelopes to JetStream.
type Publisher struct {
	JS jetstream.JetStream
	// Timeout bounds one publish (default DefaultCallTimeout).
	Timeout time.Duration
}

// Published is the outcome of a publish.
type Published struct {
	Stream   string
	Sequence uint64
	// Duplicate is true when JetStream already held a message with the same
	// ID inside the stream's duplicate window and dropped this one.
	Duplicate bool
}

// Publish stores env on its subject (events.Subject) and waits for the
// acknowledgement. The envelope ID becomes Nats-Msg-Id, so publishing the same
// event twice within the duplicate window stores it once.
func (p Publisher) Publish(ctx context.Context, env *events.Envelope) (Published, error) {
	subject, err := events.Subject(env)
	if err != nil {
		return Published{}, err
	}
	return p.PublishOn(ctx, subject, env)
}

// PublishOn is Publish on an explicit subject (the dead-letter subject, for one).
func (p Publisher) PublishOn(ctx context.Context, subject string, env *events.Envelope) (Published, error) {
	msg, err := message(ctx, subject, env)
	if err != nil {
		return Published{}, err
	}
	var ack *jetstream.PubAck
	err = Call(ctx, p.Timeout, func(ctx context.Context) error {
		ack, err = p.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(env.ID))
		return err
	})
	if err != nil {
		return Published{}, fmt.Errorf("publishing %s on %s: %w", env.Type, subject, err)
	}
	return Published{Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// PublishOnAsync sends env on subject without waiting for the
// acknowledgement, and returns a wait that does (bounded by ctx and the
// publisher's Timeout; no retry). Publishes sent one after the other on a
// connection are stored in that order, so a batch keeps its order without a
// round trip per message.
func (p Publisher) PublishOnAsync(ctx context.Context, subject string, env *events.Envelope) (wait func() (Published, error)) {
	fail := func(err error) func() (Published, error) {
		return func() (Published, error) {
			return Published{}, fmt.Errorf("publishing %s on %s: %w", env.Type, subject, err)
		}
	}
	msg, err := message(ctx, subject, env)
	if err != nil {
		return fail(err)
	}
	f, err := p.JS.PublishMsgAsync(msg, jetstream.WithMsgID(env.ID))
	if err != nil {
		return fail(err)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return func() (Published, error) {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case ack := <-f.Ok():
			return Published{Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
		case err := <-f.Err():
			return fail(err)()
		case <-ctx.Done():
			return fail(ctx.Err())()
		case <-t.C:
			return fail(context.DeadlineExceeded)()
		}
	}
}

// message is env as a NATS message on subject, with its type, correlation
// id and trace context in headers.
func message(ctx context.Context, subject string, env *events.Envelope) (*nats.Msg, error) {
	data, err := env.Encode()
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", env.Type, err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(HeaderEventType, env.Type)
	if env.CorrelationID != "" {
		msg.Header.Set(HeaderCorrelationID, env.CorrelationID)
	}
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(msg.Header))
	return msg, nil
}
