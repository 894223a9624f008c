package targets

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// HostPattern is one entry of FANOUT_ALLOWED_HOSTS: a host name or IP
// address, or "*." and a domain for any name under it, with an optional
// port ("*" for any). Without a port only the scheme's default port (80,
// 443) is allowed.
type HostPattern struct {
	// Host is lower case; Suffix is true for "*.domain" (Host is then
	// ".domain").
	Host   string
	Suffix bool
	// Port is "" for the scheme's default, "*" for any.
	Port string
}

// ParseHosts parses a comma-separated FANOUT_ALLOWED_HOSTS value.
func ParseHosts(v string) ([]HostPattern, error) {
	var out []HostPattern
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseHost(entry)
		if err != nil {
			return nil, fmt.Errorf("FANOUT_ALLOWED_HOSTS entry %q: %w", entry, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseHost(entry string) (HostPattern, error) {
	if strings.Contains(entry, "/") || strings.Contains(entry, "@") {
		return HostPattern{}, fmt.Errorf("is not host[:port] (no scheme, path or user info)")
	}
	host, port := entry, ""
	if h, p, err := net.SplitHostPort(entry); err == nil {
		host, port = h, p
		if port != "*" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return HostPattern{}, fmt.Errorf("port %q is not 1-65535 or *", port)
			}
		}
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	p := HostPattern{Host: host, Port: port}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		p.Host, p.Suffix = "."+rest, true
		host = rest
	}
	if host == "" || strings.ContainsAny(host, "*?#%") {
		return HostPattern{}, fmt.Errorf("host %q is not a name, an address or *.domain", host)
	}
	return p, nil
}

// hostAllowed reports whether a pattern allows u's host and port.
func hostAllowed(ps []HostPattern, u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, p := range ps {
		if p.Suffix && !strings.HasSuffix(host, p.Host) || !p.Suffix && host != p.Host {
			continue
		}
		switch p.Port {
		case "*":
			return true
		case "":
			if port(u) == defaultPort(u.Scheme) {
				return true
			}
		default:
			if port(u) == p.Port {
				return true
			}
		}
	}
	return false
}
