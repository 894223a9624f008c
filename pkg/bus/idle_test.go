package bus_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

func TestWaitIdleWaitsForHandlers(t *testing.T) {
	srv := bustest.Start(t)
	c := srv.Connect()
	var handled atomic.Int32
	// Handlers hold their messages until the test has seen the consumer
	// busy: the server updates a consumer's counts a moment after a
	// publish, which on a loaded machine may outlast a short handler.
	release := make(chan struct{})
	consume(t, c, bus.ConsumerOptions{Spec: spec("idle")}, func(context.Context, *bus.Message) error {
		<-release
		time.Sleep(100 * time.Millisecond)
		handled.Add(1)
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Idle knows only consumers that exist: wait for this one first.
	for {
		if _, err := c.JS.Consumer(ctx, events.StreamGitHub, "idle"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		publishDelivery(t, c, "idle-"+string(rune('a'+i)), i)
	}
	for {
		idle, err := bus.Idle(ctx, c.JS)
		if err != nil {
			t.Fatal(err)
		}
		if !idle {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("idle with three messages published and none handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := bus.WaitIdle(ctx, c.JS, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := handled.Load(); n != 3 {
		t.Fatalf("idle after %d of 3 messages", n)
	}
	if n, err := bus.DeadLetters(ctx, c.JS); err != nil || n != 0 {
		t.Fatalf("dead letters: %d, %v", n, err)
	}
}
