package ingress

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is the ingress configuration.
type Config struct {
	// WebhookSecret is the HMAC secret shared with GitHub. Required.
	WebhookSecret string `envconfig:"GITHUB_WEBHOOK_SECRET"`
	// MaxBodyBytes is the largest accepted delivery (GitHub caps at 25 MiB).
	MaxBodyBytes int64 `envconfig:"MAX_WEBHOOK_BODY_BYTES" default:"26214400"`
	// PublishTimeout bounds waiting for JetStream to store a delivery;
	// after it the answer is 503 so GitHub records a failed delivery.
	PublishTimeout time.Duration `envconfig:"INGRESS_PUBLISH_TIMEOUT" default:"5s"`
	// SpoolDir holds the deliveries accepted while JetStream could not
	// store them (default: ingress-spool in TELEFONISTKA_DATA_DIR). Each
	// ingress process needs a directory of its own.
	SpoolDir string `envconfig:"INGRESS_SPOOL_DIR"`
	// SpoolMaxBytes bounds the spool; 0 turns it off (a delivery JetStream
	// cannot store is then answered 503).
	SpoolMaxBytes int64 `envconfig:"INGRESS_SPOOL_MAX_BYTES" default:"268435456"`
	// AnswerAfter says when a delivery is answered: once JetStream stored
	// it ("jetstream"), or once the spool holds it (written, not fsynced)
	// and JetStream stores it moments later ("spool"). Default: spool in the all-in-one
	// server on its embedded NATS (whose files are on the same disk),
	// jetstream otherwise.
	AnswerAfter string `envconfig:"INGRESS_ANSWER_AFTER"`
}

// Values of INGRESS_ANSWER_AFTER.
const (
	AnswerAfterJetStream = "jetstream"
	AnswerAfterSpool     = "spool"
)

// LoadConfig reads Config from the environment.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading ingress configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate refuses a configuration ingress must not run with.
func (c Config) Validate() error {
	if strings.TrimSpace(c.WebhookSecret) == "" {
		// A secret of spaces is as guessable as none.
		return errors.New("GITHUB_WEBHOOK_SECRET is required and must not be blank: ingress refuses to accept unsigned webhooks")
	}
	if c.MaxBodyBytes <= 0 {
		return errors.New("MAX_WEBHOOK_BODY_BYTES must be positive")
	}
	if c.PublishTimeout <= 0 {
		return errors.New("INGRESS_PUBLISH_TIMEOUT must be positive")
	}
	if c.AnswerAfter != "" && c.AnswerAfter != AnswerAfterJetStream && c.AnswerAfter != AnswerAfterSpool {
		return fmt.Errorf("INGRESS_ANSWER_AFTER is %q; want %s or %s", c.AnswerAfter, AnswerAfterJetStream, AnswerAfterSpool)
	}
	if c.SpoolMaxBytes < 0 {
		return errors.New("INGRESS_SPOOL_MAX_BYTES must not be negative (0 turns the spool off)")
	}
	return nil
}

// String never shows the secret.
func (c Config) String() string {
	return fmt.Sprintf("ingress.Config{WebhookSecret:[redacted] MaxBodyBytes:%d PublishTimeout:%s SpoolDir:%q SpoolMaxBytes:%d AnswerAfter:%q}",
		c.MaxBodyBytes, c.PublishTimeout, c.SpoolDir, c.SpoolMaxBytes, c.AnswerAfter)
}
