package fanout

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/telefonistka/telefonistka/services/fanout/internal/targets"
)

// Config is the fan-out service's configuration, read from the environment.
type Config struct {
	// Concurrency is how many forwards run at once in this process.
	Concurrency int `envconfig:"FANOUT_CONCURRENCY" default:"10"`
	// Timeout bounds one attempt to one endpoint.
	Timeout time.Duration `envconfig:"FANOUT_TIMEOUT" default:"10s"`
	// MaxAttempts is how many attempts an endpoint gets for one push.
	MaxAttempts int `envconfig:"FANOUT_MAX_ATTEMPTS" default:"3"`
	// AllowedURLs, when set, must match a whole canonical URL (see
	// targets.Canonical) for it to be called.
	AllowedURLs URLPattern `envconfig:"FANOUT_ALLOWED_URL_REGEX"`
	// AllowedHosts, when set, lists the hosts (and ports) that may be
	// called, matched against the parsed URL.
	AllowedHosts HostList `envconfig:"FANOUT_ALLOWED_HOSTS"`
	// AllowLocalAddresses lets fan-out call loopback, link-local and cloud
	// metadata addresses; they are refused by default.
	AllowLocalAddresses bool `envconfig:"FANOUT_ALLOW_LOCAL_ADDRESSES" default:"false"`

	// RetryBase is the delay before the first retry; it doubles for each
	// later one. Not read from the environment (tests shorten it).
	RetryBase time.Duration `ignored:"true"`
}

// URLPattern is a regular expression that must match a whole URL.
type URLPattern struct {
	// Source is the expression as configured.
	Source string
	// Re is ^(?:Source)$, or nil when Source is empty.
	Re *regexp.Regexp
}

// Decode implements envconfig.Decoder.
func (p *URLPattern) Decode(v string) error {
	re, err := targets.CompileAllow(v)
	if err != nil {
		return err
	}
	*p = URLPattern{Re: re}
	if re != nil {
		p.Source = v
	}
	return nil
}

// HostList is FANOUT_ALLOWED_HOSTS: comma-separated host[:port] entries,
// "*.domain" for any name under a domain, port "*" for any port.
type HostList []targets.HostPattern

// Decode implements envconfig.Decoder.
func (l *HostList) Decode(v string) error {
	hs, err := targets.ParseHosts(v)
	*l = hs
	return err
}

// Policy is what fan-out may call under this configuration.
func (c Config) Policy() targets.Policy {
	return targets.Policy{Hosts: c.AllowedHosts, URL: c.AllowedURLs.Re, AllowLocal: c.AllowLocalAddresses}
}

// ParseURLPattern compiles expr as Decode does.
func ParseURLPattern(expr string) (URLPattern, error) {
	var p URLPattern
	err := p.Decode(expr)
	return p, err
}

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading fan-out configuration: %w", err)
	}
	c = c.withDefaults()
	return c, c.Validate()
}

func (c Config) withDefaults() Config {
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	return c
}

// maxAttemptsLimit keeps retries within what JetStream's redelivery and the
// GITHUB stream's retention comfortably cover.
const maxAttemptsLimit = 20

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("FANOUT_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("FANOUT_TIMEOUT must be positive, got %s", c.Timeout))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > maxAttemptsLimit {
		errs = append(errs, fmt.Errorf("FANOUT_MAX_ATTEMPTS must be between 1 and %d, got %d", maxAttemptsLimit, c.MaxAttempts))
	}
	if c.AllowedURLs.Source != "" && c.AllowedURLs.Re == nil {
		errs = append(errs, errors.New("FANOUT_ALLOWED_URL_REGEX is set but not compiled"))
	}
	return errors.Join(errs...)
}
