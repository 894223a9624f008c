package events

import (
	"fmt"
	"strings"
)

// Subjects have the form <family>.<name>.<owner>.<repo>, for GitHub
// deliveries github.<event>.<action>.<owner>.<repo>. Owner and repo (and
// every other variable part) are escaped by EscapeToken so that a name
// holding ".", "*" or ">" stays one token and can never act as a wildcard.

// EmptyToken stands for an absent value (no action, no repository). GitHub
// names never escape to it, because EscapeToken escapes a leading "-".
const EmptyToken = "-"

// EscapeToken makes s a single, literal NATS subject token. Bytes outside
// [A-Za-z0-9_-] become %XX (upper-case hex), as does a leading "-"; the empty
// string becomes EmptyToken. The mapping is reversible with UnescapeToken.
func EscapeToken(s string) string {
	if s == "" {
		return EmptyToken
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPlain(c) && (i > 0 || c != '-') {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isPlain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// UnescapeToken reverses EscapeToken.
func UnescapeToken(t string) (string, error) {
	if t == EmptyToken {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '%' {
			if !isPlain(c) {
				return "", fmt.Errorf("token %q: byte %q must be escaped", t, c)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(t) {
			return "", fmt.Errorf("token %q: truncated escape", t)
		}
		var v byte
		if _, err := fmt.Sscanf(t[i+1:i+3], "%02X", &v); err != nil {
			return "", fmt.Errorf("token %q: bad escape %q", t, t[i:i+3])
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}

// repoTokens returns the owner and repo tokens of r (EmptyToken for nil).
func repoTokens(r *Repo) (string, string) {
	if r == nil {
		return EmptyToken, EmptyToken
	}
	return EscapeToken(r.Owner), EscapeToken(r.Name)
}

// GitHubSubject is the subject of a GitHub delivery:
// github.<event>.<action>.<owner>.<repo>.
func GitHubSubject(event, action string, repo *Repo) string {
	o, n := repoTokens(repo)
	return "github." + EscapeToken(event) + "." + EscapeToken(action) + "." + o + "." + n
}

// GitHubFilter is a subscription filter for GitHub deliveries of one event
// and action (either may be "*") in any repository.
func GitHubFilter(event, action string) string {
	return "github." + wildOrToken(event) + "." + wildOrToken(action) + ".>"
}

func wildOrToken(s string) string {
	if s == "*" {
		return s
	}
	return EscapeToken(s)
}

// Subject returns the subject an envelope is published on. GitHub deliveries
// use GitHubSubject; every other type <family>.<name>.vN is published on
// <family>.<name>.<owner>.<repo>.
func Subject(env *Envelope) (string, error) {
	if env.Type == TypeGitHubDelivery {
		var d GitHubDelivery
		if err := env.DecodeData(&d); err != nil {
			return "", err
		}
		return GitHubSubject(d.Event, d.Action, env.Repo), nil
	}
	family, name, err := splitType(env.Type)
	if err != nil {
		return "", err
	}
	o, n := repoTokens(env.Repo)
	return family + "." + name + "." + o + "." + n, nil
}

// FilterFor is a subscription filter for events of the given type in any
// repository, e.g. "promotion.planned.>" for "promotion.planned.v1".
func FilterFor(typ string) string {
	family, name, err := splitType(typ)
	if err != nil {
		panic(err)
	}
	return family + "." + name + ".>"
}

func splitType(typ string) (family, name string, err error) {
	parts := strings.Split(typ, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "v") {
		return "", "", fmt.Errorf("event type %q is not <family>.<name>.v<N>", typ)
	}
	return parts[0], parts[1], nil
}

// DeadLetterSubject is where a consumer's failed messages are recorded:
// deadletter.<consumer>.<owner>.<repo>.
func DeadLetterSubject(consumer string, repo *Repo) string {
	o, n := repoTokens(repo)
	return "deadletter." + EscapeToken(consumer) + "." + o + "." + n
}
