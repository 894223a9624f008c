package targets

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/services/fanout/internal/netguard"
)

// FuzzSelect expands arbitrary rules over an arbitrary path: it never
// panics, and every accepted URL is an absolute http(s) URL whose parsed
// host the allowlists allow and that is not a local address; the redacted
// form never holds the URL's user info or query values.
func FuzzSelect(f *testing.F) {
	f.Add(`^clusters/([^/]+)/`, "https://argocd-${1}.example.com/hook", "clusters/eu/app.yaml")
	f.Add(`(?P<h>.*)`, "http://$h", "evil.example.net/x")
	f.Add(`(.*)`, "https://x.example.com/$1", "a b\x00/%zz")
	f.Add(`a`, "$1$$${", "a")
	f.Add(`^clusters/([^/]+)/`, "http://${1}.argocd.example.com/api", "clusters/x@127.0.0.1:9#/a.yaml")
	f.Add(`^clusters/([^/]+)/`, "http://${1}.argocd.example.com/api", "clusters/127.0.0.1:9?/a.yaml")
	f.Add(`^c/([^/]+)/`, "http://u:${1}@h.example.com/?t=${1}", "c/s3cret/a")
	allow := regexp.MustCompile(`^(?:https?://[^/]+\.example\.com(/.*)?)$`)
	hosts, _ := ParseHosts("*.example.com:*")
	f.Fuzz(func(t *testing.T, expr, replacement, file string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		cfg := &config.RepoConfig{WebhookEndpointRegexs: []config.WebhookEndpoint{{Expression: expr, Regexp: re, Replacements: []string{replacement}}}}
		for _, pol := range []Policy{{}, {URL: allow}, {Hosts: hosts}} {
			res := Select(cfg, []string{file}, pol)
			for _, u := range res.Accepted {
				p, err := url.Parse(u)
				if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" {
					t.Fatalf("accepted %q", u)
				}
				host := strings.ToLower(p.Hostname())
				if (pol.URL != nil || pol.Hosts != nil) && !strings.HasSuffix(host, ".example.com") {
					t.Fatalf("accepted %q whose host %q is outside the allowlist", u, host)
				}
				if _, local := netguard.LocalHost(host); local {
					t.Fatalf("accepted %q whose host %q is local", u, host)
				}
				red, err := url.Parse(Redact(u))
				if err != nil || red.User != nil || red.Fragment != "" {
					t.Fatalf("Redact(%q) = %v (%v) keeps user info or fragment", u, red, err)
				}
				for k, vs := range red.Query() {
					if len(vs) != 1 || vs[0] != "REDACTED" {
						t.Fatalf("Redact(%q) keeps query value %s=%q", u, k, vs)
					}
				}
			}
			if len(res.Accepted)+len(res.Rejected) > 1 {
				t.Fatalf("one replacement produced %d URLs", len(res.Accepted)+len(res.Rejected))
			}
		}
	})
}
