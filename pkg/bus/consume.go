package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/obs"
)

// Message is what a handler gets: the decoded envelope and where it came from.
type Message struct {
	Env       *events.Envelope
	Subject   string
	Delivery  uint64 // 1 on the first delivery
	StreamSeq uint64
	// MaxDeliver is the consumer's delivery limit (see Final).
	MaxDeliver uint64
	// Log carries service, event and correlation attributes.
	Log *slog.Logger
}

// Final reports whether the runtime will not deliver m again once the
// handler returns err: err is nil (acknowledged) or permanent, or this is the
// last delivery allowed (MaxDeliver; ten times that while GitHub asks to
// wait). Handlers use it to record a failure before the message is
// dead-lettered, so the rule lives here only.
func (m *Message) Final(err error) bool {
	if err == nil || IsPermanent(err) {
		return true
	}
	limit := m.MaxDeliver
	if _, asked := RetryDelay(err); asked {
		// Waiting out a rate limit is not the message's fault.
		limit *= 10
	}
	return m.Delivery >= limit
}

// Handler handles one message; see the package documentation for what its
// error means.
type Handler func(ctx context.Context, m *Message) error

// ConsumerOptions configures Consume.
type ConsumerOptions struct {
	Spec events.ConsumerSpec
	// Service is the emitting service of dead-letter events.
	Service string
	// Concurrency is how many messages are handled at once (default 4).
	// Messages of one repository and PR always go to the same worker, so
	// they are handled in delivery order (unless Unordered is set).
	Concurrency int
	// Unordered lets any free worker take the next message. Use it for
	// independent messages (one webhook forward each) where one slow
	// message must not hold up others of the same repository.
	Unordered bool
	// EventTimeout bounds one handler call (default 5m).
	EventTimeout time.Duration
	// DrainTimeout is how long in-flight handlers may finish after shutdown
	// starts before their context is cancelled (default 25s).
	DrainTimeout time.Duration
	Log          *slog.Logger
	Metrics      *Metrics
	// Backoff gives the redelivery delay after the n-th failed delivery
	// (default Backoff).
	Backoff func(n uint64) time.Duration
}

const (
	defaultMaxDeliver = 10
	defaultAckWait    = 30 * time.Second
)

func (o *ConsumerOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 5 * time.Minute
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 25 * time.Second
	}
	if o.Spec.MaxDeliver <= 0 {
		o.Spec.MaxDeliver = defaultMaxDeliver
	}
	if o.Spec.AckWait <= 0 {
		o.Spec.AckWait = defaultAckWait
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Service == "" {
		o.Service = o.Spec.Durable
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
}

// EnsureConsumer creates or updates the durable consumer of spec. The
// delivery limit is enforced by the runtime (so a dead-letter event can be
// written), not by the server.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, spec events.ConsumerSpec, concurrency int) (jetstream.Consumer, error) {
	ackWait := spec.AckWait
	if ackWait <= 0 {
		ackWait = defaultAckWait
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, spec.Stream, jetstream.ConsumerConfig{
		Durable:        spec.Durable,
		Description:    "telefonistka " + spec.Durable,
		FilterSubjects: spec.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        ackWait,
		MaxDeliver:     -1,
		MaxAckPending:  concurrency * 64,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s on %s: %w", spec.Durable, spec.Stream, err)
	}
	return cons, nil
}

// Consume runs the durable consumer described by opts until ctx is done, then
// stops fetching, lets in-flight handlers finish (up to DrainTimeout) and
// returns. The consumer is created or updated first.
func Consume(ctx context.Context, conn *Conn, opts ConsumerOptions, h Handler) error {
	opts.defaults()
	cons, err := EnsureConsumer(ctx, conn.JS, opts.Spec, opts.Concurrency)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(opts.Concurrency))
	if err != nil {
		return fmt.Errorf("pulling from consumer %s: %w", opts.Spec.Durable, err)
	}
	r := &runner{opts: opts, handler: h, pub: Publisher{JS: conn.JS}, js: conn.JS}

	// Handlers run on a context that outlives ctx by DrainTimeout, so a
	// shutdown lets them finish and ack instead of cutting them off.
	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()

	// Ordered: one queue per worker, chosen by partition. Unordered: one
	// queue shared by every worker.
	queues := make([]chan jetstream.Msg, opts.Concurrency)
	if opts.Unordered {
		queues = queues[:1]
	}
	var wg sync.WaitGroup
	for i := 0; i < opts.Concurrency; i++ {
		if i < len(queues) {
			queues[i] = make(chan jetstream.Msg, 1)
		}
		q := queues[i%len(queues)]
		wg.Add(1)
		go func(q chan jetstream.Msg) {
			defer wg.Done()
			for m := range q {
				r.handle(handlerCtx, m)
			}
		}(q)
	}

	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			it.Drain()
		case <-stopped:
		}
	}()
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			opts.Log.Warn("fetching message", "consumer", opts.Spec.Durable, "error", err)
			continue
		}
		queues[partition(m, len(queues))] <- m
	}
	close(stopped)
	for _, q := range queues {
		close(q)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(opts.DrainTimeout):
		opts.Log.Warn("drain timeout: cancelling in-flight handlers", "consumer", opts.Spec.Durable)
		cancelHandlers()
		<-done
	}
	return nil
}

// partition picks the worker for m: the same repository and PR always map to
// the same worker.
func partition(m jetstream.Msg, n int) int {
	if n == 1 {
		return 0
	}
	key := m.Subject()
	if env, err := events.Decode(m.Data()); err == nil && env.Repo != nil {
		key = fmt.Sprintf("%s#%d", env.Repo, env.PR)
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

type runner struct {
	opts    ConsumerOptions
	handler Handler
	pub     Publisher
	js      jetstream.JetStream
}

var tracer = otel.Tracer("github.com/telefonistka/telefonistka/pkg/bus")

func (r *runner) handle(base context.Context, m jetstream.Msg) {
	start := time.Now()
	meta, err := m.Metadata()
	if err != nil {
		r.opts.Log.Error("message without metadata", "subject", m.Subject(), "error", err)
		_ = m.Term()
		return
	}
	log := r.opts.Log.With("service", r.opts.Service, "consumer", r.opts.Spec.Durable,
		"subject", m.Subject(), "stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered)

	env, decodeErr := events.Decode(m.Data())
	if decodeErr != nil {
		log.Error("undecodable message", "error", decodeErr)
		r.deadLetter(base, m, meta, nil, events.FailedPermanent, decodeErr, log)
		r.opts.Metrics.observe(r.opts.Spec.Durable, "dead_letter", time.Since(start))
		return
	}
	log = log.With("event_type", env.Type, "event_id", env.ID, "correlation_id", env.CorrelationID)
	if env.Repo != nil {
		log = log.With("repo", env.Repo.String())
	}
	if env.PR != 0 {
		log = log.With("pr", env.PR)
	}

	ctx := otel.GetTextMapPropagator().Extract(base, headerCarrier(m.Headers()))
	ctx, span := tracer.Start(ctx, "consume "+env.Type, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.destination.name", m.Subject()),
			attribute.String("telefonistka.correlation_id", env.CorrelationID)))
	defer span.End()
	ctx = obs.WithLogger(ctx, log)
	ctx, cancel := context.WithTimeout(ctx, r.opts.EventTimeout)
	defer cancel()

	msg := &Message{Env: env, Subject: m.Subject(), Delivery: meta.NumDelivered, StreamSeq: meta.Sequence.Stream,
		MaxDeliver: uint64(r.opts.Spec.MaxDeliver), Log: log}
	stopBeat := r.heartbeat(m)
	herr := hydrate(ctx, r.js, env)
	if herr == nil {
		herr = r.call(ctx, msg)
	}
	stopBeat()

	outcome := r.settle(base, m, meta, msg, herr, log)
	if herr != nil {
		span.RecordError(herr)
		span.SetStatus(codes.Error, herr.Error())
	}
	r.opts.Metrics.observe(r.opts.Spec.Durable, outcome, time.Since(start))
}

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

// heartbeat tells JetStream the message is in progress every third of
// AckWait until the returned function is called.
func (r *runner) heartbeat(m jetstream.Msg) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.opts.Spec.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(stop); <-done }
}

// settle acknowledges, redelivers or dead-letters m according to herr, and
// returns the outcome for metrics.
func (r *runner) settle(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, msg *Message, herr error, log *slog.Logger) string {
	if herr == nil {
		if err := m.DoubleAck(ctx); err != nil {
			log.Warn("acknowledging message", "error", err)
		}
		return "ack"
	}
	if IsPermanent(herr) {
		log.Error("handler failed permanently", "error", herr)
		r.deadLetter(ctx, m, meta, msg.Env, events.FailedPermanent, herr, log)
		return "dead_letter"
	}
	if msg.Final(herr) {
		log.Error("giving up after maximum deliveries", "error", herr)
		r.deadLetter(ctx, m, meta, msg.Env, events.FailedMaxDeliveries, herr, log)
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

// deadLetter records m on the consumer's dead-letter subject and terminates
// it. If the record cannot be written, the message is redelivered instead, so
// nothing is dropped silently.
func (r *runner) deadLetter(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, env *events.Envelope, reason string, cause error, log *slog.Logger) {
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
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = r.pub.PublishOn(pctx, events.DeadLetterSubject(r.opts.Spec.Durable, fm.Repo), out)
		cancel()
	}
	if err != nil {
		log.Error("writing dead-letter record; will redeliver", "error", err)
		_ = m.NakWithDelay(r.opts.Backoff(meta.NumDelivered))
		return
	}
	if err := m.TermWithReason(reason); err != nil {
		log.Warn("terminating message", "error", err)
	}
}
