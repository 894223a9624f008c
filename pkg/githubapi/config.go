package githubapi

import (
	"errors"
	"fmt"
	"math"

	"github.com/kelseyhightower/envconfig"
)

// Config is how a process reaches GitHub. Load it once in main with
// LoadConfig. Tokens are Secrets, so printing a Config never shows them.
type Config struct {
	// Main identity: a token, or a GitHub App (which wins when AppID is set).
	OAuthToken        Secret `envconfig:"GITHUB_OAUTH_TOKEN"`
	AppID             Int64  `envconfig:"GITHUB_APP_ID"`
	AppPrivateKeyPath string `envconfig:"GITHUB_APP_PRIVATE_KEY_PATH"`

	// Approver identity, used only to approve promotion PRs. Optional and
	// never checked at start: ApproverForOwner reports what is missing.
	ApproverOAuthToken        Secret `envconfig:"APPROVER_GITHUB_OAUTH_TOKEN"`
	ApproverAppID             Int64  `envconfig:"APPROVER_GITHUB_APP_ID"`
	ApproverAppPrivateKeyPath string `envconfig:"APPROVER_GITHUB_APP_PRIVATE_KEY_PATH"`

	// Host is a GitHub Enterprise Server host, with or without a scheme.
	Host string `envconfig:"GITHUB_HOST"`
	// URL is a full REST base URL such as http://127.0.0.1:9000/api/v3/; it wins over Host.
	URL string `envconfig:"GITHUB_URL"`

	// CommitStatusURLTemplatePath names a Go template file rendering the
	// target URL of the telefonistka commit status.
	CommitStatusURLTemplatePath string `envconfig:"CUSTOM_COMMIT_STATUS_URL_TEMPLATE_PATH"`

	// WriteRate is how many content-creating calls (POST, PATCH, PUT,
	// DELETE, GraphQL mutations) per second each installation or token may
	// make once its burst is spent; WriteBurst is that burst. Zero (or an
	// empty variable) means the default: burst 20, then 1 per second. That
	// keeps within GitHub's documented secondary limit of 80
	// content-creating requests a minute (20 + 60) while a single promotion
	// (about ten writes) runs unpaced.
	WriteRate  Float64 `envconfig:"GITHUB_WRITE_RATE"`
	WriteBurst Int64   `envconfig:"GITHUB_WRITE_BURST"`
}

// Pacing defaults.
const (
	DefaultWriteRate  = 1.0
	DefaultWriteBurst = 20
)

// withDefaults fills the settings left at zero.
func (c Config) withDefaults() Config {
	if c.WriteRate == 0 {
		c.WriteRate = DefaultWriteRate
	}
	if c.WriteBurst == 0 {
		c.WriteBurst = DefaultWriteBurst
	}
	return c
}

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, fmt.Errorf("reading github configuration from the environment: %w", err)
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks the main identity, the endpoints and the pacing
// settings (zero pacing settings mean the defaults). The approver identity is not checked here (see ApproverForOwner).
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.AppID != 0 && c.AppPrivateKeyPath == "":
		errs = append(errs, errors.New("GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY_PATH is empty"))
	case c.AppID == 0 && c.AppPrivateKeyPath != "":
		errs = append(errs, errors.New("GITHUB_APP_PRIVATE_KEY_PATH is set but GITHUB_APP_ID is empty"))
	case c.AppID < 0:
		errs = append(errs, fmt.Errorf("GITHUB_APP_ID must be positive, got %d", c.AppID))
	case c.AppID == 0 && !c.OAuthToken.IsSet():
		errs = append(errs, errors.New("no GitHub identity: set GITHUB_OAUTH_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_PATH"))
	}
	if _, err := c.Endpoints(); err != nil {
		errs = append(errs, err)
	}
	if c.WriteRate < 0 || math.IsNaN(float64(c.WriteRate)) {
		errs = append(errs, fmt.Errorf("GITHUB_WRITE_RATE must be positive, got %v", c.WriteRate))
	}
	if c.WriteBurst < 0 {
		errs = append(errs, fmt.Errorf("GITHUB_WRITE_BURST must be positive, got %d", c.WriteBurst))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid github configuration: %w", err)
	}
	return nil
}

// approverConfigured reports whether any approver credential is set.
func (c Config) approverConfigured() bool {
	return c.ApproverOAuthToken.IsSet() || c.ApproverAppID != 0 || c.ApproverAppPrivateKeyPath != ""
}
