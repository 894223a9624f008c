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
	consume(t, c, bus.ConsumerOptions{Spec: spec("idle")}, func(context.Context, *bus.Message) error {
		time.Sleep(300 * time.Millisecond)
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
	if idle, err := bus.Idle(ctx, c.JS); err != nil || idle {
		t.Fatalf("idle right after publishing: %v, %v", idle, err)
	}
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
