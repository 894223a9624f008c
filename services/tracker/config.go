package tracker

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is the tracker's configuration, read from the environment.
type Config struct {
	// Retention is how long the TRACKER stream keeps the events the
	// projection is built from; the projection can be rebuilt from the
	// stream (delete the tracker bucket, restart) as long as it holds
	// every event since the start.
	Retention time.Duration `envconfig:"TRACKER_RETENTION" default:"8760h"`
	// PublicURL is where people reach the tracker's pages (the /tracker
	// path of the service), linked from the origin-PR comment; empty: no
	// link.
	PublicURL string `envconfig:"TRACKER_PUBLIC_URL"`
	// Comments turns the origin-PR comment on; a repository still opts in
	// with promotionTrackerComment. Off, the tracker needs no GitHub
	// identity.
	Comments bool `envconfig:"TRACKER_COMMENTS" default:"true"`
	// CommentDelay is how long a change stays quiet before its comment is
	// written, so a burst of events makes one edit.
	CommentDelay time.Duration `envconfig:"TRACKER_COMMENT_DELAY" default:"2s"`
	// CommentMaxAge: changes whose last event is older are not commented
	// (a rebuild does not edit the comments of old changes).
	CommentMaxAge time.Duration `envconfig:"TRACKER_COMMENT_MAX_AGE" default:"168h"`
	// Concurrency is how many events are projected at once.
	Concurrency int `envconfig:"TRACKER_CONCURRENCY" default:"8"`
	// TemplatesPath holds comment template overrides (tracker-comment.gotmpl).
	TemplatesPath string `envconfig:"TEMPLATES_PATH" default:"templates/"`
}

// LoadConfig reads Config from the environment and validates it.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading tracker configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("TRACKER_RETENTION must not be negative, got %s", c.Retention))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			errs = append(errs, fmt.Errorf("TRACKER_PUBLIC_URL %q is not an http(s) URL without credentials", c.PublicURL))
		}
	}
	if c.CommentDelay < 0 || c.CommentMaxAge < 0 {
		errs = append(errs, errors.New("TRACKER_COMMENT_DELAY and TRACKER_COMMENT_MAX_AGE must not be negative"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("TRACKER_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	return errors.Join(errs...)
}

// pageURL is the public address of a repository's page, or "".
func (c Config) pageURL(repo string) string {
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + "/" + repo
}
