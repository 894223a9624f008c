package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The all-in-one server's services reach its embedded NATS in process: the
// URL is not dialled, so a connection works with one nothing listens on.
func TestConnectInProcess(t *testing.T) {
	s, err := StartEmbedded(EmbeddedOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	c, err := Connect(ConnOptions{URL: "nats://127.0.0.1:1", Name: "in-process", InProcess: s})
	if err != nil {
		t.Fatalf("in-process connection: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	ack, err := c.JS.Publish(ctx, "t.x", []byte("stored"))
	if err != nil || ack.Sequence != 1 {
		t.Fatalf("publish in process: ack %+v, err %v", ack, err)
	}
	if _, err := Connect(ConnOptions{URL: "nats://127.0.0.1:1", Name: "network"}); err == nil {
		t.Fatal("a network connection to a port nothing listens on succeeded; the test proves nothing")
	}
}
