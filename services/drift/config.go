package drift

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is the drift service's configuration, read from the environment.
type Config struct {
	// HandleSelfComment also handles comments the bot itself wrote (local
	// tests with a personal token). Comments carrying the bot marker are
	// never handled, so the bot cannot answer itself.
	HandleSelfComment bool `envconfig:"HANDLE_SELF_COMMENT" default:"false"`
	// TemplatesPath is the directory of comment template overrides.
	TemplatesPath string `envconfig:"TEMPLATES_PATH" default:"templates/"`
	// PRMetricsInterval is the refresh period of the open-PR gauges; 0
	// turns the loop off in this process.
	PRMetricsInterval time.Duration `envconfig:"PR_METRICS_INTERVAL" default:"60s"`
	// Checkers are the services that report on every open-PR check run
	// (the PR-check record's expected set): this service, plus argodiff
	// once it is deployed and reports on every run.
	Checkers []string `envconfig:"TELEFONISTKA_PR_CHECKERS" default:"drift"`
	// JoinArgoDiff adds argodiff to a run's checkers when the repository
	// sets argocd.commentDiffonPR; LoadConfig sets it when
	// TELEFONISTKA_PR_CHECKERS is not set.
	JoinArgoDiff bool `ignored:"true"`

	// FinalStatusTimeout bounds the writes that end a run (the run record
	// and the final commit status); they run even after the event timeout.
	FinalStatusTimeout time.Duration `ignored:"true"`
	// AckWait is the consumer's AckWait: how soon a delivery whose handler
	// died (a killed process) is redelivered. Zero means the bus default.
	AckWait time.Duration `ignored:"true"`
	// MaxDeliver is how many deliveries a check gets before it ends with an
	// error status.
	MaxDeliver int `ignored:"true"`
	// BlobConcurrency is how many blobs are read at once for one check.
	BlobConcurrency int `ignored:"true"`
}

// Checker is this service's name in the PR-check record.
const Checker = "drift"

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading drift configuration: %w", err)
	}
	c.JoinArgoDiff = os.Getenv("TELEFONISTKA_PR_CHECKERS") == ""
	c = c.withDefaults()
	return c, c.Validate()
}

func (c Config) withDefaults() Config {
	if c.FinalStatusTimeout <= 0 {
		c.FinalStatusTimeout = 30 * time.Second
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 10
	}
	if c.BlobConcurrency <= 0 {
		c.BlobConcurrency = 8
	}
	if len(c.Checkers) == 0 {
		c.Checkers = []string{Checker}
	}
	for i, name := range c.Checkers {
		c.Checkers[i] = strings.TrimSpace(name)
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.PRMetricsInterval < 0 {
		errs = append(errs, fmt.Errorf("PR_METRICS_INTERVAL must not be negative, got %s", c.PRMetricsInterval))
	}
	found := false
	for _, name := range c.Checkers {
		if name == "" {
			errs = append(errs, errors.New("TELEFONISTKA_PR_CHECKERS has an empty name"))
		}
		found = found || name == Checker
	}
	if !found {
		errs = append(errs, fmt.Errorf("TELEFONISTKA_PR_CHECKERS must include %q, got %v", Checker, c.Checkers))
	}
	return errors.Join(errs...)
}
