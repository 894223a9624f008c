// Package targets chooses the endpoints a push is forwarded to, from a
// repository's webhookEndpointRegexs and the files the push changed, and
// refuses URLs that must not be called. It is pure: no I/O.
package targets

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/services/fanout/internal/netguard"
)

// Rejection is a URL that is never called, with the reason.
type Rejection struct {
	URL    string
	Reason string
}

// Result is the outcome of Select.
type Result struct {
	// Accepted are the URLs to call, deduplicated and sorted.
	Accepted []string
	// Rejected are the URLs refused, sorted by URL.
	Rejected []Rejection
}

// Policy says which URLs fan-out may call.
type Policy struct {
	// Hosts, when not empty, lists the hosts (and ports) that may be
	// called; see ParseHosts.
	Hosts []HostPattern
	// URL, when not nil, must match the whole canonical URL (Canonical);
	// build it with CompileAllow.
	URL *regexp.Regexp
	// AllowLocal lets fan-out call loopback, link-local and metadata
	// addresses (netguard); off by default.
	AllowLocal bool
}

// Select expands the rules of cfg over files and checks every URL: for each
// file, the first rule whose expression matches contributes all of its
// replacements, expanded from that match's captures only (Go's
// Regexp.Expand); the URLs are deduplicated. A URL Check refuses is
// rejected.
func Select(cfg *config.RepoConfig, files []string, p Policy) Result {
	var r Result
	if cfg == nil {
		return r
	}
	for _, u := range cfg.WebhookURLs(files) {
		if reason := Check(u, p); reason != "" {
			r.Rejected = append(r.Rejected, Rejection{URL: u, Reason: reason})
			continue
		}
		r.Accepted = append(r.Accepted, u)
	}
	sort.Strings(r.Accepted)
	sort.Slice(r.Rejected, func(i, j int) bool { return r.Rejected[i].URL < r.Rejected[j].URL })
	return r
}

// Rejection reasons of the allowlists.
const (
	AllowReason = "does not fully match FANOUT_ALLOWED_URL_REGEX"
	HostsReason = "host is not in FANOUT_ALLOWED_HOSTS"
)

// Check returns why raw must not be called, or "" if it may be. Every
// decision is taken on the parsed URL, never on the string: a URL whose
// text looks allowed but whose host is another one (user info, "#" or "?"
// placed before the allowed name) is judged by the host it would reach.
func Check(raw string, p Policy) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("is not a valid URL: %v", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "is not an absolute http or https URL"
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return "has no host"
	}
	if len(p.Hosts) > 0 && !hostAllowed(p.Hosts, u) {
		return HostsReason
	}
	if p.URL != nil && !p.URL.MatchString(Canonical(u)) {
		return AllowReason
	}
	if !p.AllowLocal {
		if kind, local := netguard.LocalHost(u.Hostname()); local {
			return "host is " + kind + "; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"
		}
	}
	return ""
}

// Canonical is the URL as FANOUT_ALLOWED_URL_REGEX sees it, rebuilt from
// its parsed parts: scheme://host[:port]/path, the host in lower case, the
// port written only when it is not the scheme's default, with no user
// info, query or fragment.
func Canonical(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := port(u); p != defaultPort(u.Scheme) {
		host += ":" + p
	}
	return strings.ToLower(u.Scheme) + "://" + host + u.EscapedPath()
}

// port is u's port, the scheme's default when none is written.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort(u.Scheme)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// Redact returns raw without its secrets, for logs, metric labels and
// events: user info is dropped and query values are replaced by
// "REDACTED"; the fragment is dropped.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// CompileAllow compiles an allowlist expression so that it must match a
// whole URL: ^(?:expr)$. An empty expression means no allowlist (nil).
func CompileAllow(expr string) (*regexp.Regexp, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("compiling %q: %w", expr, err)
	}
	return re, nil
}
