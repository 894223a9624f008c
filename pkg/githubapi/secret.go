package githubapi

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted replaces a secret wherever it would be printed.
const redacted = "[REDACTED]"

// Secret holds a credential. Every way of printing it (fmt verbs, slog,
// JSON, text marshalling) shows "[REDACTED]" instead of the value, so a
// Config can be logged or wrapped into an error without leaking it. Use
// Reveal to get the value for an Authorization header.
type Secret string

// Reveal returns the secret value. Call it only where the value is sent.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[REDACTED]" for a set secret and "" for an empty one.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("githubapi.Secret(%q)", s.String()) }

// Format keeps every fmt verb (%v, %s, %q, %x, %d, ...) from printing the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// LogValue keeps log/slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json, YAML and similar encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
