package argodiff

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// Config is the argodiff service's configuration, read from the environment.
type Config struct {
	// ServerAddr is the Argo CD API server, host:port.
	ServerAddr string `envconfig:"ARGOCD_SERVER_ADDR" default:"localhost:8080"`
	// Token is the Argo CD API token; never logged.
	Token string `envconfig:"ARGOCD_TOKEN"`
	// PlainText disables TLS; Insecure skips certificate verification.
	PlainText bool `envconfig:"ARGOCD_PLAINTEXT" default:"false"`
	Insecure  bool `envconfig:"ARGOCD_INSECURE" default:"false"`
	// GRPCWeb talks grpc-web (HTTP/1.1) to the server, for proxies that do
	// not pass gRPC.
	GRPCWeb bool `envconfig:"ARGOCD_GRPC_WEB" default:"false"`
	// Concurrency is how many components of one PR are diffed at once.
	Concurrency int `envconfig:"ARGOCD_DIFF_CONCURRENCY" default:"8"`
	// CallTimeout bounds each Argo CD call.
	CallTimeout time.Duration `envconfig:"ARGOCD_CALL_TIMEOUT" default:"60s"`
	// TemplatesPath is the directory of comment template overrides.
	TemplatesPath string `envconfig:"TEMPLATES_PATH" default:"templates/"`
	// HandleSelfComment also handles /retrigger comments the bot itself
	// wrote (local tests with a personal token).
	HandleSelfComment bool `envconfig:"HANDLE_SELF_COMMENT" default:"false"`
	// Checkers, when set, are the checkers every open-PR run waits for
	// (the drift service reads the same variable). Unset, a run waits for
	// drift, and for argodiff when the repository sets
	// argocd.commentDiffonPR.
	Checkers []string `envconfig:"TELEFONISTKA_PR_CHECKERS"`

	// Connected is set when ARGOCD_SERVER_ADDR or ARGOCD_TOKEN is set: the
	// service has an Argo CD connection.
	Connected bool `ignored:"true"`

	// FinalStatusTimeout bounds the writes that end a run.
	FinalStatusTimeout time.Duration `ignored:"true"`
	// MinimizedTimeout is how long the diff waits for the drift service to
	// minimise the PR's earlier comments before it posts its own.
	MinimizedTimeout time.Duration `ignored:"true"`
	// AckWait and MaxDeliver tune the consumer (zero: defaults).
	AckWait    time.Duration `ignored:"true"`
	MaxDeliver int           `ignored:"true"`
}

// Checker is this service's name in the PR-check record.
const Checker = events.CheckerArgoDiff

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading argodiff configuration: %w", err)
	}
	c.Connected = os.Getenv("ARGOCD_SERVER_ADDR") != "" || os.Getenv("ARGOCD_TOKEN") != ""
	c = c.withDefaults()
	return c, c.Validate()
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = time.Minute
	}
	if c.FinalStatusTimeout <= 0 {
		c.FinalStatusTimeout = 30 * time.Second
	}
	if c.MinimizedTimeout <= 0 {
		c.MinimizedTimeout = 2 * time.Minute
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 10
	}
	for i, name := range c.Checkers {
		c.Checkers[i] = strings.TrimSpace(name)
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Connected && strings.TrimSpace(c.ServerAddr) == "" {
		errs = append(errs, errors.New("ARGOCD_SERVER_ADDR must not be empty"))
	}
	for _, name := range c.Checkers {
		if name == "" {
			errs = append(errs, errors.New("TELEFONISTKA_PR_CHECKERS has an empty name"))
		}
	}
	return errors.Join(errs...)
}
