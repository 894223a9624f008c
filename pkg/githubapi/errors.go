package githubapi

import (
	"errors"
	"fmt"
)

// ErrApproverUnavailable is in the chain of every error saying the approver
// identity cannot be used (missing or broken APPROVER_* credentials).
// Callers turn it into a PR comment; the error's text says what to fix.
var ErrApproverUnavailable = errors.New("approver identity unavailable")

// CredentialsError says an identity's credentials are missing or unusable.
// It is permanent: retrying cannot fix it.
type CredentialsError struct {
	Identity string // "main" or "approver"
	Reason   string
	Err      error
}

func (e *CredentialsError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s github identity: %s: %v", e.Identity, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s github identity: %s", e.Identity, e.Reason)
}

func (e *CredentialsError) Unwrap() error   { return e.Err }
func (e *CredentialsError) Permanent() bool { return true }

// NoInstallationError says the GitHub App is not installed on an account.
// It is permanent for the event at hand.
type NoInstallationError struct {
	AppID int64
	Owner string
}

func (e *NoInstallationError) Error() string {
	return fmt.Sprintf("GitHub App %d has no installation on account %q; install the app there or check the repository owner", e.AppID, e.Owner)
}

func (e *NoInstallationError) Permanent() bool { return true }
