package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// Messages with the same ordering key (events.OrderingKey) are handled
	// one at a time in stream order; a message that runs long holds up only
	// the messages of its key, never those of other keys.
	Concurrency int
	// Unordered gives every message its own key. Use it for independent
	// messages (one webhook forward each).
	Unordered bool
	// MaxHeld bounds the messages held at once: running, and waiting behind
	// a running message of their key (default 16 per worker). Every held
	// message is reported in progress to JetStream, so waiting never makes
	// it redelivered or spends its delivery budget.
	MaxHeld int
	// EventTimeout bounds one handler call (default 5m).
	EventTimeout time.Duration
	// CallTimeout bounds each NATS call of the runtime: acknowledgements,
	// dead letters, consumer information (default DefaultCallTimeout).
	CallTimeout time.Duration
	// DrainTimeout is how long in-flight handlers may finish after shutdown
	// starts before their context is cancelled (default 25s).
	DrainTimeout time.Duration
	// RecoverFor is how long the runtime tries to re-create a consumer that
	// was deleted before Consume returns an error (default 1m). Meanwhile
	// Health reports the consumer lost.
	RecoverFor time.Duration
	// LagInterval is how often the consumer's lag is read for the metrics
	// (default 15s).
	LagInterval time.Duration
	Log         *slog.Logger
	Metrics     *Metrics
	Health      *Health
	// Backoff gives the redelivery delay after the n-th failed delivery
	// (default Backoff).
	Backoff func(n uint64) time.Duration
}

// ConsumerDefaults gives the options of a service's consumer with the
// process defaults (app.Env.ConsumerOptions is one).
type ConsumerDefaults func(service string, spec events.ConsumerSpec) ConsumerOptions

// Or returns d, or, when d is nil (a service built without pkg/app, as in
// tests), defaults with only the spec, the service and log.
func (d ConsumerDefaults) Or(log *slog.Logger) ConsumerDefaults {
	if d != nil {
		return d
	}
	return func(service string, spec events.ConsumerSpec) ConsumerOptions {
		return ConsumerOptions{Spec: spec, Service: service, Log: log}
	}
}

const (
	defaultMaxDeliver = 10
	defaultAckWait    = 30 * time.Second
	// fetchWait is how long one pull request waits for messages.
	fetchWait = 5 * time.Second
)

func (o *ConsumerOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxHeld < o.Concurrency {
		o.MaxHeld = 16 * o.Concurrency
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 5 * time.Minute
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 25 * time.Second
	}
	if o.RecoverFor <= 0 {
		o.RecoverFor = time.Minute
	}
	if o.LagInterval <= 0 {
		o.LagInterval = 15 * time.Second
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

// Consume runs the durable consumer described by opts until ctx is done,
// then stops fetching, gives the messages that have not started back to
// JetStream, lets in-flight handlers finish (up to DrainTimeout) and returns
// nil. The consumer is created or updated first. If the consumer is deleted
// while it runs, it is re-created from its last acknowledged stream
// sequence; if that fails for RecoverFor, Consume returns an error (the
// service stops and the process exits non-zero).
func Consume(ctx context.Context, conn *Conn, opts ConsumerOptions, h Handler) error {
	opts.defaults()
	var cons jetstream.Consumer
	err := Call(ctx, opts.CallTimeout, func(ctx context.Context) error {
		var err error
		cons, err = EnsureConsumer(ctx, conn.JS, opts.Spec, opts.Concurrency)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before it started
		}
		return err
	}
	r := &runner{opts: opts, handler: h, pub: Publisher{JS: conn.JS, Timeout: opts.CallTimeout}, js: conn.JS,
		hold: newHolding(opts.MaxHeld)}
	r.setConsumer(cons)
	r.noteInfo(cons.CachedInfo())
	return r.run(ctx)
}

type runner struct {
	opts    ConsumerOptions
	handler Handler
	pub     Publisher
	js      jetstream.JetStream
	hold    *holding

	mu       sync.Mutex
	cons     jetstream.Consumer
	ackFloor uint64 // the last stream sequence known acknowledged
}

func (r *runner) consumer() jetstream.Consumer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cons
}

func (r *runner) setConsumer(c jetstream.Consumer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cons = c
}

// noteInfo remembers the acknowledged floor of the consumer.
func (r *runner) noteInfo(info *jetstream.ConsumerInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if info != nil && info.AckFloor.Stream > r.ackFloor {
		r.ackFloor = info.AckFloor.Stream
	}
}

func (r *runner) run(ctx context.Context) error {
	// Handlers run on a context that outlives ctx by DrainTimeout, so a
	// shutdown lets them finish and ack instead of cutting them off.
	handlerCtx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	var workers sync.WaitGroup
	for i := 0; i < r.opts.Concurrency; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for h := range r.hold.ready {
				if r.hold.isDraining() {
					r.giveBack(h)
				} else {
					r.handle(handlerCtx, h)
				}
				r.hold.done(h)
			}
		}()
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go r.reportProgress(bgCtx)
	go r.watchLag(bgCtx)

	err := r.fetch(ctx)
	for _, h := range r.hold.drain() {
		r.giveBack(h)
	}
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.opts.DrainTimeout):
		r.opts.Log.Warn("drain timeout: cancelling in-flight handlers", "consumer", r.opts.Spec.Durable)
		cancelHandlers()
		<-done
	}
	return err
}

// fetch pulls as many messages as may be held until ctx is done.
func (r *runner) fetch(ctx context.Context) error {
	pause := 250 * time.Millisecond
	for ctx.Err() == nil {
		n := r.hold.free()
		if n <= 0 {
			select {
			case <-ctx.Done():
			case <-r.hold.freed:
			}
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		batch, err := r.consumer().Fetch(n, jetstream.FetchContext(fctx))
		if err == nil {
			for m := range batch.Messages() {
				r.accept(m)
			}
			err = batch.Error()
		}
		cancel()
		if err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			pause = 250 * time.Millisecond
			continue
		}
		if consumerMayBeGone(err) {
			if rerr := r.recover(ctx); rerr != nil {
				return rerr
			}
			continue
		}
		r.opts.Log.Warn("fetching messages", "consumer", r.opts.Spec.Durable, "error", err, "retry_in", pause.String())
		sleep(ctx, pause)
		pause = min(2*pause, 5*time.Second)
	}
	return nil
}

// accept holds a fetched message and queues it behind its key.
func (r *runner) accept(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		r.opts.Log.Error("message without metadata", "subject", m.Subject(), "error", err)
		_ = m.Term()
		return
	}
	h := &held{seq: meta.Sequence.Stream, msg: m, meta: meta}
	h.env, h.bad = events.Decode(m.Data())
	switch {
	case r.opts.Unordered || h.env == nil:
		h.key = fmt.Sprintf("seq:%d", h.seq)
	default:
		h.key = events.OrderingKey(h.env)
		if h.key == "" {
			h.key = m.Subject()
		}
	}
	if !r.hold.add(h) {
		r.opts.Log.Warn("message redelivered while held; handling it once", "consumer", r.opts.Spec.Durable,
			"stream_seq", h.seq, "delivery", meta.NumDelivered)
	}
}

// giveBack returns a message that has not started to JetStream for another
// process to take now.
func (r *runner) giveBack(h *held) {
	m, _ := h.current()
	if err := m.Nak(); err != nil {
		r.opts.Log.Warn("giving a message back", "consumer", r.opts.Spec.Durable, "stream_seq", h.seq, "error", err)
	}
}

// reportProgress tells JetStream every third of AckWait that each held
// message is in progress, running or waiting.
func (r *runner) reportProgress(ctx context.Context) {
	t := time.NewTicker(r.opts.Spec.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held := r.hold.all()
		for _, h := range held {
			m, _ := h.current()
			_ = m.InProgress()
		}
		r.opts.Metrics.setHeld(r.opts.Spec.Durable, len(held))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

var tracer = otel.Tracer("github.com/telefonistka/telefonistka/pkg/bus")

func (r *runner) handle(base context.Context, h *held) {
	start := time.Now()
	m, meta := h.current()
	log := r.opts.Log.With("service", r.opts.Service, "consumer", r.opts.Spec.Durable,
		"subject", m.Subject(), "stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered)

	env := h.env
	if env == nil {
		log.Error("undecodable message", "error", h.bad)
		r.deadLetter(base, h, nil, events.FailedPermanent, h.bad, log)
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
	if sc := span.SpanContext(); sc.HasTraceID() {
		log = log.With("trace_id", sc.TraceID().String())
	}
	ctx = obs.WithLogger(ctx, log)
	ctx, cancel := context.WithTimeout(ctx, r.opts.EventTimeout)
	defer cancel()

	msg := &Message{Env: env, Subject: m.Subject(), Delivery: meta.NumDelivered, StreamSeq: meta.Sequence.Stream,
		MaxDeliver: uint64(r.opts.Spec.MaxDeliver), Log: log}
	herr := hydrate(ctx, r.js, env)
	if herr == nil {
		herr = r.call(ctx, msg)
	}

	outcome := r.settle(base, h, msg, herr, log)
	if herr != nil {
		span.RecordError(herr)
		span.SetStatus(codes.Error, herr.Error())
	}
	r.opts.Metrics.observe(r.opts.Spec.Durable, outcome, time.Since(start))
}
