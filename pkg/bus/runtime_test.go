package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// handledLog records each handler call: event id and delivery count.
type handledLog struct {
	mu    sync.Mutex
	calls map[string][]uint64
}

func (l *handledLog) add(m *bus.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string][]uint64{}
	}
	l.calls[m.Env.ID] = append(l.calls[m.Env.ID], m.Delivery)
}

func (l *handledLog) get(id string) []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uint64(nil), l.calls[id]...)
}

// Messages waiting behind a slow handler of their key are reported in
// progress too: JetStream does not redeliver them while they wait, so each
// is handled once, on its first delivery (its delivery budget untouched).
func TestMessagesWaitingBehindASlowHandlerAreHandledOnce(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	var log handledLog
	slowStarted := make(chan struct{})
	consume(t, c, bus.ConsumerOptions{Spec: spec("waiting"), Concurrency: 2},
		func(_ context.Context, m *bus.Message) error {
			log.add(m)
			if m.Env.ID == "slow" && m.Delivery == 1 {
				close(slowStarted)
				// Slow work, three times AckWait.
				time.Sleep(3 * time.Second)
			}
			return nil
		})
	publishDelivery(t, c, "slow", 11)
	<-slowStarted
	for i := range 3 {
		publishDelivery(t, c, fmt.Sprintf("behind-%d", i), 11)
	}
	waitPending(t, c, "waiting", 0)
	for _, id := range []string{"slow", "behind-0", "behind-1", "behind-2"} {
		if got := log.get(id); len(got) != 1 || got[0] != 1 {
			t.Errorf("%s handled at deliveries %v, want once at delivery 1", id, got)
		}
	}
}

// A handler that waits (on a NATS node that died, say) holds up only the
// messages of its own ordering key: every other key is handled meanwhile,
// whatever worker it would have hashed to.
func TestOtherKeysAreNotStuckBehindAWaitingHandler(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	release := make(chan struct{})
	others := make(chan int, 64)
	consume(t, c, bus.ConsumerOptions{Spec: spec("keys"), Concurrency: 2},
		func(ctx context.Context, m *bus.Message) error {
			if m.Env.ID == "stuck" {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil
			}
			others <- m.Env.PR
			return nil
		})
	publishDelivery(t, c, "stuck", 100)
	const n = 12
	for pr := 1; pr <= n; pr++ {
		publishDelivery(t, c, fmt.Sprintf("pr-%d", pr), pr)
	}
	seen := map[int]bool{}
	timeout := time.After(20 * time.Second)
	for len(seen) < n {
		select {
		case pr := <-others:
			seen[pr] = true
		case <-timeout:
			t.Fatalf("only %d of %d other PRs handled while one handler waits: %v", len(seen), n, seen)
		}
	}
	close(release)
	waitPending(t, c, "keys", 0)
}

// callFrozen connects to srv through a proxy with a short call timeout,
// lets prepare use the connection, freezes the proxy (NATS stops
// answering) and runs call with a context that would wait ten minutes. The
// call must fail on its own deadline, as NATS unavailable.
func callFrozen(t *testing.T, srv *bustest.Server, prepare func(*bus.Conn), call func(context.Context) error) {
	t.Helper()
	proxy := bustest.NewProxy(t, srv)
	c, err := bus.Connect(bus.ConnOptions{URL: proxy.URL(), Name: t.Name(), CallTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.NC.Close() })
	prepare(c)
	proxy.Freeze()
	defer proxy.Thaw()
	handlerCtx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(handlerCtx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !bus.IsUnavailable(err) || handlerCtx.Err() != nil {
			t.Fatalf("call to a frozen server: %v (handler context: %v)", err, handlerCtx.Err())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a call to a frozen server waited for the handler's deadline")
	}
}

// A publish gives up after its own deadline when NATS stops answering,
// although the caller's context would let it wait for minutes.
func TestPublishHasItsOwnDeadline(t *testing.T) {
	srv := bustest.Start(t)
	env, err := events.New(events.Meta{ID: "frozen", Repo: &events.Repo{Owner: "acme", Name: "gitops"}},
		&events.GitHubDelivery{DeliveryID: "frozen", Event: "push", Headers: map[string]string{}, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var pub bus.Publisher
	callFrozen(t, srv, func(c *bus.Conn) { pub = c.Publisher() }, func(ctx context.Context) error {
		_, err := pub.Publish(ctx, env)
		return err
	})
}

// A consumer deleted while the service runs is re-created, and messages
// published afterwards are handled.
func TestDeletedConsumerIsRecreated(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	got := make(chan string, 8)
	health := &bus.Health{}
	consume(t, c, bus.ConsumerOptions{Spec: spec("lost"), Health: health, LagInterval: 50 * time.Millisecond},
		func(_ context.Context, m *bus.Message) error {
			got <- m.Env.ID
			return nil
		})
	publishDelivery(t, c, "before", 21)
	expect(t, got, "before")
	waitPending(t, c, "lost", 0)
	if err := c.JS.DeleteConsumer(context.Background(), events.StreamGitHub, "lost"); err != nil {
		t.Fatal(err)
	}
	publishDelivery(t, c, "after", 22)
	// Messages after the last acknowledged floor the runtime had read may
	// be handled again (handlers are idempotent); "after" must come.
	for id := ""; id != "after"; {
		select {
		case id = <-got:
		case <-time.After(15 * time.Second):
			t.Fatal("a message published after the consumer was deleted was not handled")
		}
	}
	if err := health.Err(); err != nil {
		t.Fatalf("health after re-creation: %v", err)
	}
	waitPending(t, c, "lost", 0)
}

// When the consumer cannot be re-created (its stream is gone too), the
// process is reported not ready and Consume fails, so the service exits
// non-zero instead of silently doing nothing.
func TestConsumerThatCannotBeRecreatedFailsTheService(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	health := &bus.Health{}
	s := spec("gone")
	s.Stream, s.FilterSubjects = events.StreamBump, []string{"bump.>"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(ctx, c, bus.ConsumerOptions{Spec: s, Health: health, RecoverFor: 500 * time.Millisecond},
			func(context.Context, *bus.Message) error { return nil })
	}()
	waitConsumer(t, c, events.StreamBump, "gone")
	if err := c.JS.DeleteStream(context.Background(), events.StreamBump); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Consume returned nil with its consumer and stream gone")
		}
		if health.Err() == nil {
			t.Fatal("health reports ready with the consumer gone")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Consume kept running with its consumer gone")
	}
}

func expect(t *testing.T, got <-chan string, want string) {
	t.Helper()
	select {
	case id := <-got:
		if id != want {
			t.Fatalf("handled %s, want %s", id, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s not handled", want)
	}
}

func waitConsumer(t *testing.T, c *bus.Conn, stream, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.JS.Consumer(context.Background(), stream, name); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s never created", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A publish made while the client is reconnecting (its NATS server
// restarting, or another server of the cluster taking over) waits for the
// connection within its deadline instead of failing at once: ingress then
// answers 2xx through a NATS node loss.
func TestPublishWaitsOutAReconnect(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	srv.Stop()
	reconnecting := make(chan struct{})
	go func() {
		for !c.NC.IsReconnecting() {
			time.Sleep(5 * time.Millisecond)
		}
		close(reconnecting)
	}()
	<-reconnecting
	done := make(chan error, 1)
	env := publishable(t, "during-restart")
	go func() {
		_, err := bus.Publisher{JS: c.JS, Timeout: 20 * time.Second}.Publish(context.Background(), env)
		done <- err
	}()
	srv.Restart()
	if err := <-done; err != nil {
		t.Fatalf("publish while reconnecting: %v", err)
	}
}

func publishable(t *testing.T, id string) *events.Envelope {
	t.Helper()
	env, err := events.New(events.Meta{ID: id, Repo: &events.Repo{Owner: "acme", Name: "gitops"}},
		&events.GitHubDelivery{DeliveryID: id, Event: "push", Headers: map[string]string{}, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// A server that stops answering without closing the connection (a host
// lost, a partition) is left once two pings go unanswered, not minutes
// later, so the client moves to another server of the cluster.
func TestFrozenServerIsLeft(t *testing.T) {
	srv := bustest.Start(t)
	proxy := bustest.NewProxy(t, srv)
	c, err := bus.Connect(bus.ConnOptions{URL: proxy.URL(), Name: t.Name(), PingInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.NC.Close() })
	proxy.Freeze()
	defer proxy.Thaw()
	deadline := time.Now().Add(60 * time.Second)
	for c.NC.Status() == nats.CONNECTED {
		if time.Now().After(deadline) {
			t.Fatal("still connected to a server that has not answered for 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
