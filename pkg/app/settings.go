package app

import (
	"errors"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/githubapi"
)

// SettingsError lists every problem with a process's settings.
type SettingsError struct {
	Problems []string
}

func (e *SettingsError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid settings: " + e.Problems[0]
	}
	return "invalid settings:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// CheckSettings runs the Check of every builder and returns a
// *SettingsError naming each distinct problem (several services share the
// GitHub settings), or nil.
func CheckSettings(builders ...Builder) error {
	return settingsError(errors.Join(checks(builders)...))
}

// LoadAndCheck reads the process configuration (LoadConfig) and checks the
// settings of every builder, reporting every problem at once in a
// *SettingsError.
func LoadAndCheck(builders ...Builder) (Config, error) {
	cfg, err := LoadConfig()
	return cfg, settingsError(errors.Join(append([]error{err}, checks(builders)...)...))
}

func checks(builders []Builder) []error {
	var errs []error
	for _, b := range builders {
		if b.Check != nil {
			errs = append(errs, b.Check())
		}
	}
	return errs
}

// settingsError turns joined errors into a *SettingsError with each
// distinct message once (nil for nil).
func settingsError(err error) error {
	if err == nil {
		return nil
	}
	var problems []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			problems = append(problems, msg)
		}
	}
	walk(err)
	return &SettingsError{Problems: problems}
}

// CheckGitHub validates the GitHub settings (identity, endpoints, the App
// key file) without calling GitHub; services that call GitHub use it in
// their Check.
func CheckGitHub() error {
	cfg, err := githubapi.LoadConfig()
	if err != nil {
		return err
	}
	_, err = githubapi.NewFactory(cfg, githubapi.Options{})
	return err
}

// Settings returns a Builder.Check that loads a service's configuration
// with load (from the environment) and, for a service that calls GitHub,
// checks the GitHub settings too.
func Settings[C any](load func() (C, error), callsGitHub bool) func() error {
	return func() error {
		_, err := load()
		if callsGitHub {
			err = errors.Join(err, CheckGitHub())
		}
		return err
	}
}
