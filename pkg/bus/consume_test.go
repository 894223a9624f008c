package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// consumed runs a consumer of promotion.planned-like events (we use the
// dead-letter type as a payload that exists in events) until the test ends.
func consume(t *testing.T, c *bus.Conn, opts bus.ConsumerOptions, h bus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, c, opts, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Consume returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Consume did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func spec(name string) events.ConsumerSpec {
	return events.ConsumerSpec{Durable: name, Stream: events.StreamGitHub,
		FilterSubjects: []string{events.GitHubFilter("push", "*")}, MaxDeliver: 3, AckWait: time.Second}
}

func publishDelivery(t *testing.T, c *bus.Conn, id string, pr int) *events.Envelope {
	t.Helper()
	env, err := events.New(events.Meta{ID: id, Source: "test", CorrelationID: id,
		Repo: &events.Repo{Owner: "acme", Name: "gitops"}, PR: pr},
		&events.GitHubDelivery{DeliveryID: id, Event: "push", Headers: map[string]string{}, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (bus.Publisher{JS: c.JS}).Publish(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return env
}

func fastBackoff(uint64) time.Duration { return 10 * time.Millisecond }

// deadLetters collects consumer.failed records of a consumer.
func deadLetters(t *testing.T, c *bus.Conn, consumer string) <-chan events.ConsumerFailed {
	t.Helper()
	out := make(chan events.ConsumerFailed, 16)
	sub, err := c.NC.Subscribe(events.DeadLetterSubject(consumer, &events.Repo{Owner: "acme", Name: "gitops"}), func(m *nats.Msg) {
		env, err := events.Decode(m.Data)
		if err != nil {
			t.Errorf("dead letter is not an envelope: %v", err)
			return
		}
		var rec events.ConsumerFailed
		if err := env.DecodeData(&rec); err != nil {
			t.Errorf("dead letter payload: %v", err)
			return
		}
		out <- rec
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return out
}

func TestAckOnSuccess(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	got := make(chan *bus.Message, 4)
	consume(t, c, bus.ConsumerOptions{Spec: spec("ok")}, func(_ context.Context, m *bus.Message) error {
		got <- m
		return nil
	})
	publishDelivery(t, c, "d-1", 1)
	select {
	case m := <-got:
		if m.Env.ID != "d-1" || m.Delivery != 1 {
			t.Fatalf("message = %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}
	waitPending(t, c, "ok", 0)
	// The server confirmed the acknowledgement (the floor moved past the
	// message), so it is never delivered again.
	info := consumerInfo(t, c, "ok")
	if info.AckFloor.Stream != info.Delivered.Stream || info.NumRedelivered != 0 {
		t.Fatalf("after the ack: floor %d, delivered %d, redelivered %d", info.AckFloor.Stream, info.Delivered.Stream, info.NumRedelivered)
	}
}

func consumerInfo(t *testing.T, c *bus.Conn, consumer string) *jetstream.ConsumerInfo {
	t.Helper()
	cons, err := c.JS.Consumer(context.Background(), events.StreamGitHub, consumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestFailingConsumerEndsOnDeadLetter(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	dl := deadLetters(t, c, "flaky")
	var calls atomic.Int32
	consume(t, c, bus.ConsumerOptions{Spec: spec("flaky"), Backoff: fastBackoff},
		func(context.Context, *bus.Message) error {
			calls.Add(1)
			return errors.New("github answered 502")
		})
	env := publishDelivery(t, c, "d-2", 2)
	select {
	case rec := <-dl:
		if rec.Reason != events.FailedMaxDeliveries || rec.Deliveries != 3 || rec.OriginalID != env.ID ||
			rec.Error != "github answered 502" || rec.Consumer != "flaky" || rec.StreamSequence == 0 {
			t.Fatalf("dead letter = %+v", rec)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no dead letter")
	}
	// Terminated: nothing is pending or awaiting acknowledgement, so it is
	// never delivered again.
	waitPending(t, c, "flaky", 0)
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times, want 3 (MaxDeliver)", n)
	}
	// The dead letter is stored in the DEADLETTER stream too.
	st, err := c.JS.Stream(context.Background(), events.StreamDeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := st.Info(context.Background()); info.State.Msgs != 1 {
		t.Fatalf("DEADLETTER holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPermanentErrorIsDeadLetteredAtOnce(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	dl := deadLetters(t, c, "strict")
	var calls atomic.Int32
	consume(t, c, bus.ConsumerOptions{Spec: spec("strict"), Backoff: fastBackoff},
		func(context.Context, *bus.Message) error {
			calls.Add(1)
			return fmt.Errorf("parsing config: %w", bus.Permanent(errors.New("bad regex")))
		})
	publishDelivery(t, c, "d-3", 3)
	select {
	case rec := <-dl:
		if rec.Reason != events.FailedPermanent || rec.Deliveries != 1 {
			t.Fatalf("dead letter = %+v", rec)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no dead letter")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
}

// A handler error that carries a delay is redelivered after that delay, not
// after the (here very short) backoff.
func TestRetryAfterDelaysRedelivery(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	var mu sync.Mutex
	var times []time.Time
	done := make(chan struct{})
	consume(t, c, bus.ConsumerOptions{Spec: spec("limited"), Backoff: fastBackoff},
		func(context.Context, *bus.Message) error {
			mu.Lock()
			defer mu.Unlock()
			times = append(times, time.Now())
			if len(times) == 1 {
				return bus.RetryAfter(errors.New("secondary rate limit"), 700*time.Millisecond)
			}
			close(done)
			return nil
		})
	publishDelivery(t, c, "d-4", 4)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not redelivered")
	}
	if gap := times[1].Sub(times[0]); gap < 600*time.Millisecond {
		t.Fatalf("redelivered after %v, want at least the requested 700ms", gap)
	}
}

// Work longer than AckWait is not redelivered while the handler runs.
func TestLongHandlerIsKeptInProgress(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	var calls atomic.Int32
	finished := make(chan struct{})
	consume(t, c, bus.ConsumerOptions{Spec: spec("slow"), Concurrency: 2},
		func(context.Context, *bus.Message) error {
			if calls.Add(1) == 1 {
				time.Sleep(3 * time.Second) // three times AckWait
				close(finished)
			}
			return nil
		})
	publishDelivery(t, c, "d-5", 5)
	<-finished
	waitPending(t, c, "slow", 0)
	if info := consumerInfo(t, c, "slow"); info.NumRedelivered != 0 || info.Delivered.Consumer != 1 {
		t.Fatalf("delivered %d times (%d redelivered), want once", info.Delivered.Consumer, info.NumRedelivered)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
}

// Cancelling the consumer lets the in-flight handler finish and acknowledge.
func TestDrainFinishesInFlightWork(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	started := make(chan struct{})
	var completed atomic.Bool
	stop := consume(t, c, bus.ConsumerOptions{Spec: spec("drain")},
		func(ctx context.Context, _ *bus.Message) error {
			close(started)
			select {
			case <-time.After(700 * time.Millisecond):
				completed.Store(true)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	publishDelivery(t, c, "d-6", 6)
	<-started
	stop()
	if !completed.Load() {
		t.Fatal("in-flight handler was cut off by shutdown")
	}
	waitPending(t, c, "drain", 0)
}

// Messages of one PR are handled in order even with many workers.
func TestOrderPerPR(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	var mu sync.Mutex
	seen := map[int][]string{}
	var total atomic.Int32
	consume(t, c, bus.ConsumerOptions{Spec: spec("order"), Concurrency: 8},
		func(_ context.Context, m *bus.Message) error {
			time.Sleep(time.Millisecond)
			mu.Lock()
			seen[m.Env.PR] = append(seen[m.Env.PR], m.Env.ID)
			mu.Unlock()
			total.Add(1)
			return nil
		})
	const prs, per = 5, 20
	for i := 0; i < per; i++ {
		for pr := 1; pr <= prs; pr++ {
			publishDelivery(t, c, fmt.Sprintf("pr%d-%03d", pr, i), pr)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for total.Load() < prs*per && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for pr := 1; pr <= prs; pr++ {
		ids := seen[pr]
		if len(ids) != per {
			t.Fatalf("PR %d: %d messages handled, want %d", pr, len(ids), per)
		}
		for i, id := range ids {
			if want := fmt.Sprintf("pr%d-%03d", pr, i); id != want {
				t.Fatalf("PR %d: message %d is %s, want %s", pr, i, id, want)
			}
		}
	}
}

func TestPublishDeduplicatesByID(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	env, _ := events.New(events.Meta{ID: "same", Source: "test", Repo: &events.Repo{Owner: "a", Name: "b"}},
		&events.GitHubDelivery{DeliveryID: "same", Event: "push", Headers: map[string]string{}, Body: []byte(`{}`)})
	p := bus.Publisher{JS: c.JS}
	first, err := p.Publish(context.Background(), env)
	if err != nil || first.Duplicate {
		t.Fatalf("first publish: %+v, %v", first, err)
	}
	second, err := p.Publish(context.Background(), env)
	if err != nil || !second.Duplicate || second.Sequence != first.Sequence {
		t.Fatalf("second publish: %+v, %v", second, err)
	}
}

func waitPending(t *testing.T, c *bus.Conn, consumer string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cons, err := c.JS.Consumer(context.Background(), events.StreamGitHub, consumer)
		if err != nil {
			t.Fatal(err)
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == want && info.NumPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s: %d unacknowledged, %d pending", consumer, info.NumAckPending, info.NumPending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With Unordered, a slow message does not hold up others of the same PR.
func TestUnorderedDoesNotQueueBehindASlowMessage(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	release := make(chan struct{})
	others := make(chan string, 8)
	consume(t, c, bus.ConsumerOptions{Spec: spec("unordered"), Concurrency: 4, Unordered: true},
		func(ctx context.Context, m *bus.Message) error {
			if m.Env.ID == "slow" {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			}
			others <- m.Env.ID
			return nil
		})
	publishDelivery(t, c, "slow", 9)
	for i := 0; i < 3; i++ {
		publishDelivery(t, c, fmt.Sprintf("quick-%d", i), 9)
	}
	for i := 0; i < 3; i++ {
		select {
		case <-others:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 3 quick messages handled while the slow one runs", i)
		}
	}
	close(release)
	waitPending(t, c, "unordered", 0)
}

// A service stopped while its consumer is still being created has shut
// down, not failed: Consume returns nil.
func TestStopBeforeTheConsumerExistsIsNotAFailure(t *testing.T) {
	c := bustest.Start(t).Connect()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := bus.Consume(ctx, c, bus.ConsumerOptions{Spec: spec("stopped-early"), Service: "test"},
		func(context.Context, *bus.Message) error { return nil }); err != nil {
		t.Fatalf("Consume after cancel = %v, want nil", err)
	}
}
