package targets

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
)

// FuzzSelect expands arbitrary rules over an arbitrary path: it never
// panics, and every accepted URL is an absolute http(s) URL with a host
// that the allowlist fully matches.
func FuzzSelect(f *testing.F) {
	f.Add(`^clusters/([^/]+)/`, "https://argocd-${1}.example.com/hook", "clusters/eu/app.yaml")
	f.Add(`(?P<h>.*)`, "http://$h", "evil.example.net/x")
	f.Add(`(.*)`, "https://x.example.com/$1", "a b\x00/%zz")
	f.Add(`a`, "$1$$${", "a")
	allow := regexp.MustCompile(`^(?:https?://[a-z0-9.-]+\.example\.com(/.*)?)$`)
	f.Fuzz(func(t *testing.T, expr, replacement, file string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		cfg := &config.RepoConfig{WebhookEndpointRegexs: []config.WebhookEndpoint{{Expression: expr, Regexp: re, Replacements: []string{replacement}}}}
		for _, a := range []*regexp.Regexp{nil, allow} {
			res := Select(cfg, []string{file}, a)
			for _, u := range res.Accepted {
				p, err := url.Parse(u)
				if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" {
					t.Fatalf("accepted %q", u)
				}
				if a != nil && !a.MatchString(u) {
					t.Fatalf("accepted %q outside the allowlist", u)
				}
			}
			if len(res.Accepted)+len(res.Rejected) > 1 {
				t.Fatalf("one replacement produced %d URLs", len(res.Accepted)+len(res.Rejected))
			}
		}
	})
}
