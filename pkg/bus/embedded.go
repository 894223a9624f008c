package bus

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// MaxPayload is the largest message the embedded server accepts. Webhook
// bodies over events.InlineBodyLimit travel through the object store, so
// messages stay far below it.
const MaxPayload = 8 << 20

// EmbeddedOptions configures the in-process NATS server.
type EmbeddedOptions struct {
	// DataDir holds JetStream's files; a restart on the same directory keeps
	// every acknowledged message.
	DataDir string
	// Host and Port to listen on; Port 0 picks a free port. Host defaults to
	// 127.0.0.1 so the embedded server is not reachable from outside.
	Host string
	Port int
}

// StartEmbedded starts a NATS server with JetStream in this process and waits
// until it accepts connections. Shut it down with Shutdown and WaitForShutdown.
func StartEmbedded(o EmbeddedOptions) (*server.Server, error) {
	if o.DataDir == "" {
		return nil, fmt.Errorf("starting embedded NATS: a data directory is required")
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating NATS data directory: %w", err)
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "telefonistka",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   o.DataDir,
		MaxPayload: MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("configuring embedded NATS: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not become ready within 30s")
	}
	return s, nil
}
