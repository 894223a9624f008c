package app

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/obs"
)

type idle struct{}

// testConfig runs against the NATS server at url.
func testConfig(t *testing.T, url string) Config {
	return Config{
		LogConfig:       obs.LogConfig{Level: "info", Format: "text"},
		ListenAddress:   "127.0.0.1:0",
		NATSURL:         url,
		DataDir:         t.TempDir(),
		DuplicateWindow: time.Minute,
		EventTimeout:    time.Minute,
		ShutdownTimeout: time.Second,
	}
}

func (idle) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// A connection the NATS client closes for good (here: the server refuses a
// subject over its 4 KiB control line, and the client does not reconnect
// from that) ends Run with an error, so the process exits non-zero and is
// restarted instead of staying up, unable to publish or consume.
func TestRunEndsWhenTheNATSConnectionIsClosedForGood(t *testing.T) {
	srv := bustest.Start(t)
	cfg := testConfig(t, srv.URL())
	done := make(chan error, 1)
	opts := RunOptions{LogOutput: io.Discard, Started: func(env *Env) {
		_ = env.Conn.NC.Publish(strings.Repeat("x", 5000), nil)
	}}
	builders := []Builder{{Name: "idle", New: func(context.Context, *Env) (Service, error) { return idle{}, nil }}}
	go func() { done <- Run(context.Background(), cfg, opts, builders...) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "NATS connection closed") {
			t.Fatalf("Run returned %v, want the closed connection", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run kept running on a connection closed for good")
	}
}

// A service's own connection (Connect) is not the shared one, carries the
// service's name, is counted in readiness, and is closed when Run returns.
func TestConnectGivesAServiceItsOwnConnection(t *testing.T) {
	srv := bustest.Start(t)
	cfg := testConfig(t, srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var own, other *bus.Conn
	builders := []Builder{{Name: "idle", New: func(_ context.Context, env *Env) (Service, error) {
		var err error
		if own, err = env.Connect("telefonistka-own"); err != nil {
			return nil, err
		}
		other, err = env.Connect("telefonistka-other")
		return idle{}, err
	}}}
	started := make(chan *Env, 1)
	opts := RunOptions{LogOutput: io.Discard, Started: func(env *Env) { started <- env }}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, opts, builders...) }()
	var env *Env
	select {
	case env = <-started:
	case err := <-done:
		t.Fatalf("Run returned before starting: %v", err)
	}
	if own == nil || own == env.Conn || own.NC == env.Conn.NC {
		t.Fatal("Connect returned the shared connection")
	}
	if name := own.NC.Opts.Name; name != "telefonistka-own" {
		t.Errorf("connection name %q", name)
	}
	if !env.connected() {
		t.Fatal("not connected")
	}
	other.NC.Close()
	if env.connected() {
		t.Error("readiness ignores a service's own connection")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !own.NC.IsDraining() && !own.NC.IsClosed() {
		t.Error("the service's connection is left open")
	}
}

// An Env built by hand (tests of a service) has no way to dial: Connect
// returns the shared connection.
func TestConnectWithoutDialReturnsConn(t *testing.T) {
	conn := bustest.Start(t).Connect()
	env := &Env{Conn: conn}
	c, err := env.Connect("x")
	if err != nil || c != conn {
		t.Fatalf("Connect = %v, %v", c, err)
	}
}

type busFree struct{ err error }

func (busFree) Run(context.Context) error { return nil }
func (b busFree) ReadyWithoutBus() error  { return b.err }

type busBound struct{}

func (busBound) Run(context.Context) error { return nil }

// A process stays ready without NATS only when every service says it can
// work without it now.
func TestReadyWithoutBus(t *testing.T) {
	busErr := errors.New("NATS is not connected")
	for _, tc := range []struct {
		name     string
		services []Service
		ready    bool
	}{
		{"no services", nil, false},
		{"all can", []Service{busFree{}, busFree{}}, true},
		{"one cannot now", []Service{busFree{}, busFree{errors.New("spool full")}}, false},
		{"one needs the bus", []Service{busFree{}, busBound{}}, false},
	} {
		err := readyWithoutBus(tc.services, busErr)
		if (err == nil) != tc.ready {
			t.Errorf("%s: %v, want ready %v", tc.name, err, tc.ready)
		}
		if err != nil && !errors.Is(err, busErr) {
			t.Errorf("%s: %v does not say why the bus is not ready", tc.name, err)
		}
	}
}
