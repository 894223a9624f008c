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
			got := Select(cfg, tc.files, Policy{URL: tc.allow})
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
		// The allowlist sees the parsed host, never the text: user info,
		// "#" and "?" cannot smuggle another host past it.
		{url: "https://hooks.example.com@evil.net/a", allow: true, want: AllowReason},
		{url: "https://x@evil.net#.hooks.example.com/a", allow: true, want: AllowReason},
		{url: "https://evil.net?.hooks.example.com/a", allow: true, want: AllowReason},
		{url: "https://user:pw@hooks.example.com/a?token=1#f", allow: true, want: ""},
		{url: "https://HOOKS.example.com:443/a", allow: true, want: ""},
		{url: "https://hooks.example.com:8443/a", allow: true, want: AllowReason},
		// Without FANOUT_ALLOW_LOCAL_ADDRESSES, the machine and its
		// metadata service are refused.
		{url: "http://127.0.0.1:8080/hook", want: "host is a loopback address; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
		{url: "http://[::1]/hook", want: "host is a loopback address; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
		{url: "http://169.254.169.254/latest/meta-data/", want: "host is a link-local address (cloud metadata lives there); set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
		{url: "http://localhost:9000/", want: "host is a name of the machine itself or its metadata service; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
		{url: "http://x@127.0.0.1:9#.hooks.example.com/", want: "host is a loopback address; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
	}
	for _, tc := range cases {
		var re *regexp.Regexp
		if tc.allow {
			re = allow
		}
		if got := Check(tc.url, Policy{URL: re}); got != tc.want {
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

func TestCheckAllowedHosts(t *testing.T) {
	hosts, err := ParseHosts("hooks.example.com, *.argocd.example.com:*, 10.0.0.5:8080, [fd00::5]:9000, 127.0.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		url, want string
		local     bool
	}{
		{url: "https://hooks.example.com/a", want: ""},
		{url: "http://hooks.example.com/a", want: ""},
		{url: "https://HOOKS.EXAMPLE.COM:443/a", want: ""},
		{url: "https://hooks.example.com:8443/a", want: HostsReason},
		{url: "https://eu.argocd.example.com:6443/api", want: ""},
		{url: "https://argocd.example.com/api", want: HostsReason},
		{url: "https://evilargocd.example.com/api", want: HostsReason},
		{url: "http://10.0.0.5:8080/", want: ""},
		{url: "http://10.0.0.5/", want: HostsReason},
		{url: "http://[fd00::5]:9000/", want: ""},
		{url: "https://hooks.example.com@evil.net/", want: HostsReason},
		{url: "https://x@evil.net#hooks.example.com", want: HostsReason},
		// Listed, but local addresses still need their own opt-in.
		{url: "http://127.0.0.1:7000/", want: "host is a loopback address; set FANOUT_ALLOW_LOCAL_ADDRESSES=true to allow it"},
		{url: "http://127.0.0.1:7000/", local: true, want: ""},
	}
	for _, tc := range cases {
		if got := Check(tc.url, Policy{Hosts: hosts, AllowLocal: tc.local}); got != tc.want {
			t.Errorf("Check(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"https://x.example.com", "x.example.com/path", "user@x", "x:99999", "*", "*.", "a*b.example.com"} {
		if _, err := ParseHosts(bad); err == nil {
			t.Errorf("ParseHosts(%q) accepted", bad)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"https://user:s3cret@hooks.example.com/a?token=s3cret&x=1#frag": "https://hooks.example.com/a?token=REDACTED&x=REDACTED",
		"https://hooks.example.com/a":                                   "https://hooks.example.com/a",
		"http://bad host/":                                              "(unparsable URL)",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
