// Package bustest starts an embedded JetStream server for tests, on a random
// port and a temporary directory, with the streams of pkg/events created.
package bustest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// Server is an embedded NATS server that can be stopped and restarted on the
// same port and data directory.
type Server struct {
	t    testing.TB
	dir  string
	port int
	S    *server.Server
	// DuplicateWindow of the streams (default 10 minutes).
	DuplicateWindow time.Duration
}

// Start starts a server and creates the streams.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWithWindow(t, 0)
}

// StartWithWindow is Start with a custom duplicate window.
func StartWithWindow(t testing.TB, dup time.Duration) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), DuplicateWindow: dup}
	s.start()
	c := s.Connect()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if errs := bus.EnsureStreams(ctx, c, events.Streams(dup)); errs != nil {
		t.Fatal(errs)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	srv, err := bus.StartEmbedded(bus.EmbeddedOptions{DataDir: s.dir, Port: s.port})
	if err != nil {
		s.t.Fatal(err)
	}
	s.S = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
}

// URL is the client URL.
func (s *Server) URL() string { return s.S.ClientURL() }

// Connect opens a client connection closed at the end of the test.
func (s *Server) Connect() *bus.Conn {
	s.t.Helper()
	c, err := bus.Connect(bus.ConnOptions{URL: s.URL(), Name: s.t.Name()})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.NC.Close() })
	return c
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.S != nil && s.S.Running() {
		s.S.Shutdown()
		s.S.WaitForShutdown()
	}
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}
