// Package app runs Telefonistka services: it loads the process
// configuration, sets up logging, metrics and tracing, connects to NATS (or
// embeds a server), serves the HTTP endpoints shared by every service
// (/metrics, /healthz, /readyz and whatever routes services add), runs the
// services and shuts them down gracefully.
package app

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/telefonistka/telefonistka/pkg/obs"
)

// Config is the process configuration shared by every service.
type Config struct {
	obs.LogConfig

	// Port and ListenAddress select the HTTP listener; ListenAddress wins.
	Port          int    `envconfig:"PORT" default:"8080"`
	ListenAddress string `envconfig:"LISTEN_ADDRESS"`
	// MetricsListenAddress, if set, serves /metrics on a separate listener.
	MetricsListenAddress string `envconfig:"METRICS_LISTEN_ADDRESS"`

	// NATSURL selects an external NATS server; empty means embedded (only
	// for the all-in-one server).
	NATSURL   string `envconfig:"NATS_URL"`
	NATSCreds string `envconfig:"NATS_CREDS"`
	// NATSListen is where the embedded server listens (host:port), so other
	// tools (the nats CLI) can reach it. Default: 127.0.0.1 on a free port.
	NATSListen string `envconfig:"TELEFONISTKA_NATS_LISTEN"`
	// DataDir holds the embedded JetStream store.
	DataDir string `envconfig:"TELEFONISTKA_DATA_DIR" default:"./data"`
	// DuplicateWindow is JetStream's duplicate window (tests shorten it).
	DuplicateWindow time.Duration `envconfig:"TELEFONISTKA_DUPLICATE_WINDOW" default:"10m"`

	// StreamReplicas is the replica count of every stream, KV bucket and the
	// object store Telefonistka creates (3 on a 3-node JetStream cluster).
	// What exists is never lowered.
	StreamReplicas int `envconfig:"TELEFONISTKA_STREAM_REPLICAS" default:"1"`

	// NATSTimeout bounds each call to NATS (publish, KV, object store,
	// consumer information), so a NATS node that stops answering delays a
	// handler by seconds, not by EVENT_TIMEOUT.
	NATSTimeout time.Duration `envconfig:"TELEFONISTKA_NATS_TIMEOUT" default:"5s"`

	// EventTimeout bounds the handling of one event.
	EventTimeout time.Duration `envconfig:"EVENT_TIMEOUT" default:"5m"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `envconfig:"TELEFONISTKA_SHUTDOWN_TIMEOUT" default:"25s"`
}

// LoadConfig reads Config from the environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading process configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if _, err := obs.ParseLevel(c.Level); err != nil {
		return err
	}
	if c.ListenAddress != "" {
		if _, _, err := net.SplitHostPort(c.ListenAddress); err != nil {
			return fmt.Errorf("LISTEN_ADDRESS %q is not host:port: %w", c.ListenAddress, err)
		}
	} else if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("PORT %d is out of range", c.Port)
	}
	if c.MetricsListenAddress != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListenAddress); err != nil {
			return fmt.Errorf("METRICS_LISTEN_ADDRESS %q is not host:port: %w", c.MetricsListenAddress, err)
		}
	}
	if c.EventTimeout <= 0 {
		return fmt.Errorf("EVENT_TIMEOUT must be positive")
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		return fmt.Errorf("TELEFONISTKA_STREAM_REPLICAS must be between 1 and 5 (JetStream's limit), got %d", c.StreamReplicas)
	}
	if c.NATSTimeout <= 0 {
		return fmt.Errorf("TELEFONISTKA_NATS_TIMEOUT must be positive")
	}
	return nil
}

// Listen returns the HTTP listen address: LISTEN_ADDRESS, else :PORT.
func (c Config) Listen() string {
	if c.ListenAddress != "" {
		return c.ListenAddress
	}
	return ":" + strconv.Itoa(c.Port)
}
