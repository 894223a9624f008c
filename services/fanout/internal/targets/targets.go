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

// Select expands the rules of cfg over files and checks every URL: for each
// file, the first rule whose expression matches contributes all of its
// replacements, expanded from that match's captures only (Go's
// Regexp.Expand); the URLs are deduplicated. A URL that is not an absolute
// http or https URL with a host, or that allow (when not nil) does not
// match, is rejected. allow is used as given: build it with CompileAllow so
// it must match the whole URL.
func Select(cfg *config.RepoConfig, files []string, allow *regexp.Regexp) Result {
	var r Result
	if cfg == nil {
		return r
	}
	for _, u := range cfg.WebhookURLs(files) {
		if reason := Check(u, allow); reason != "" {
			r.Rejected = append(r.Rejected, Rejection{URL: u, Reason: reason})
			continue
		}
		r.Accepted = append(r.Accepted, u)
	}
	sort.Strings(r.Accepted)
	sort.Slice(r.Rejected, func(i, j int) bool { return r.Rejected[i].URL < r.Rejected[j].URL })
	return r
}

// AllowReason is the rejection reason of a URL outside the allowlist.
const AllowReason = "does not fully match FANOUT_ALLOWED_URL_REGEX"

// Check returns why raw must not be called, or "" if it may be.
func Check(raw string, allow *regexp.Regexp) string {
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
	if allow != nil && !allow.MatchString(raw) {
		return AllowReason
	}
	return ""
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
