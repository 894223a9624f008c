package targets

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/config"
)

const rulesYAML = `
webhookEndpointRegexs:
  - expression: "^workspace/[^/]+/"
    replacements: ["https://never.example.com/hook"]
  - expression: "^clusters/(?P<cluster>[^/]+)/(apps|infra)/"
    replacements:
      - "https://argocd-${cluster}.example.com/api/webhook"
      - "https://appset-${cluster}.example.com/${2}x"
  - expression: "^clusters/"
    replacements: ["https://fallback.example.com/api/webhook"]
  - expression: "^hosts/([^/]+)/"
    replacements: ["http://$1/hook", "https://ok.example.com/"]
`

func loadRules(t *testing.T) *config.RepoConfig {
	t.Helper()
	cfg, err := config.LoadRepoConfig("telefonistka.yaml", []byte(rulesYAML))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSelect(t *testing.T) {
	allowExample := regexp.MustCompile(`^(?:https://[a-z0-9-]+\.example\.com/.*)$`)
	cases := []struct {
		name     string
		files    []string
		allow    *regexp.Regexp
		accepted []string
		rejected []Rejection
	}{
		{name: "no file matches any rule", files: []string{"README.md", "docs/workspace/a/b"}},
		{
			name:  "first matching rule wins, all its replacements expanded from captures only",
			files: []string{"clusters/prod-eu/apps/nginx/values.yaml"},
			accepted: []string{
				"https://appset-prod-eu.example.com/appsx",
				"https://argocd-prod-eu.example.com/api/webhook",
			},
		},
		{
			name: "several files reaching one endpoint give it once",
			files: []string{
				"clusters/prod-eu/apps/a/x.yaml", "clusters/prod-eu/apps/b/y.yaml",
				"clusters/prod-eu/infra/c.yaml", "clusters/prod-us/other/z.yaml",
				"clusters/prod-ap/README",
			},
			accepted: []string{
				"https://appset-prod-eu.example.com/appsx",
				"https://appset-prod-eu.example.com/infrax",
				"https://argocd-prod-eu.example.com/api/webhook",
				"https://fallback.example.com/api/webhook",
			},
		},
		{
			name:     "captured text producing a URL without host is rejected",
			files:    []string{"hosts/@/x"},
			accepted: []string{"https://ok.example.com/"},
			rejected: []Rejection{{URL: "http://@/hook", Reason: "has no host"}},
		},
		{
			name:     "allowlist refuses URLs it does not fully match",
			files:    []string{"hosts/internal.corp:8080/x", "clusters/a/apps/z"},
			allow:    allowExample,
			accepted: []string{"https://appset-a.example.com/appsx", "https://argocd-a.example.com/api/webhook", "https://ok.example.com/"},
			rejected: []Rejection{{URL: "http://internal.corp:8080/hook", Reason: AllowReason}},
		},
	}
	cfg := loadRules(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Select(cfg, tc.files, tc.allow)
			if !reflect.DeepEqual(got.Accepted, tc.accepted) {
				t.Errorf("accepted:\n got %q\nwant %q", got.Accepted, tc.accepted)
			}
			if !reflect.DeepEqual(got.Rejected, tc.rejected) {
				t.Errorf("rejected:\n got %q\nwant %q", got.Rejected, tc.rejected)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	allow, err := CompileAllow(`https://hooks\.example\.com/.*`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		url   string
		allow bool
		want  string
	}{
		{url: "https://x.example.com/a", want: ""},
		{url: "HTTP://x.example.com/a", want: ""},
		{url: "ftp://x.example.com/a", want: "is not an absolute http or https URL"},
		{url: "/relative/path", want: "is not an absolute http or https URL"},
		{url: "x.example.com/a", want: "is not an absolute http or https URL"},
		{url: "https:opaque", want: "has no host"},
		{url: "https:///path", want: "has no host"},
		{url: "http://bad host/", want: `is not a valid URL: invalid character " " in host name`},
		{url: "https://hooks.example.com/a", allow: true, want: ""},
		// A prefix match is not enough: the whole URL must match.
		{url: "https://hooks.example.com.evil.net/a", allow: true, want: AllowReason},
		{url: "https://evil.net/?https://hooks.example.com/", allow: true, want: AllowReason},
	}
	for _, tc := range cases {
		var re *regexp.Regexp
		if tc.allow {
			re = allow
		}
		if got := Check(tc.url, re); got != tc.want {
			t.Errorf("Check(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestCompileAllow(t *testing.T) {
	if re, err := CompileAllow("  "); re != nil || err != nil {
		t.Fatalf("blank expression: %v, %v; want no allowlist", re, err)
	}
	if _, err := CompileAllow("(["); err == nil {
		t.Fatal("invalid expression accepted")
	}
	// An alternation must not escape the anchors.
	re, err := CompileAllow(`https://a\.example/.*|https://b\.example/x`)
	if err != nil {
		t.Fatal(err)
	}
	if re.MatchString("https://b.example/x/extra") {
		t.Fatal("second alternative matched a longer URL: anchors do not apply to it")
	}
	if !re.MatchString("https://b.example/x") || !re.MatchString("https://a.example/anything") {
		t.Fatal("allowed URLs refused")
	}
}
