package fanout

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/config"
)

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		for _, k := range []string{"FANOUT_CONCURRENCY", "FANOUT_TIMEOUT", "FANOUT_MAX_ATTEMPTS", "FANOUT_ALLOWED_URL_REGEX", "FANOUT_ALLOWED_HOSTS", "FANOUT_ALLOW_LOCAL_ADDRESSES"} {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
		c, err := LoadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if c.Concurrency != 10 || c.Timeout != 10*time.Second || c.MaxAttempts != 3 || c.AllowedURLs.Re != nil || c.RetryBase != time.Second ||
			c.AllowedHosts != nil || c.AllowLocalAddresses {
			t.Fatalf("defaults %+v", c)
		}
	})
	t.Run("set", func(t *testing.T) {
		t.Setenv("FANOUT_CONCURRENCY", "50")
		t.Setenv("FANOUT_TIMEOUT", "3s")
		t.Setenv("FANOUT_MAX_ATTEMPTS", "5")
		t.Setenv("FANOUT_ALLOWED_URL_REGEX", `https://[a-z]+\.example\.com/.*`)
		c, err := LoadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if c.Concurrency != 50 || c.Timeout != 3*time.Second || c.MaxAttempts != 5 {
			t.Fatalf("config %+v", c)
		}
		if !c.AllowedURLs.Re.MatchString("https://argocd.example.com/api/webhook") || c.AllowedURLs.Re.MatchString("https://argocd.example.com.evil/x") {
			t.Fatal("allowlist is not an anchored full match")
		}
	})
	bad := map[string][2]string{
		"zero concurrency":  {"FANOUT_CONCURRENCY", "0"},
		"negative timeout":  {"FANOUT_TIMEOUT", "-1s"},
		"zero attempts":     {"FANOUT_MAX_ATTEMPTS", "0"},
		"too many attempts": {"FANOUT_MAX_ATTEMPTS", "21"},
		"invalid allowlist": {"FANOUT_ALLOWED_URL_REGEX", "https://(x"},
		"a URL as a host":   {"FANOUT_ALLOWED_HOSTS", "https://argocd.example.com/"},
		"a bad port":        {"FANOUT_ALLOWED_HOSTS", "argocd.example.com:0"},
		"not a boolean":     {"FANOUT_ALLOW_LOCAL_ADDRESSES", "sometimes"},
		"not a duration":    {"FANOUT_TIMEOUT", "ten"},
		"not an integer":    {"FANOUT_CONCURRENCY", "many"},
	}
	for name, kv := range bad {
		t.Run(name, func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), kv[0]) {
				t.Fatalf("error %v, want one naming %s", err, kv[0])
			}
		})
	}
}

func TestFanoutConfigStopsOnlyForFanoutErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		wantErr    string
		rules      int
	}{
		{name: "missing file", yaml: ""},
		{name: "syntax error", yaml: "webhookEndpointRegexs: [", wantErr: "(root): invalid YAML"},
		{name: "bad expression", yaml: "webhookEndpointRegexs: [{expression: '(', replacements: ['https://x/']}]", wantErr: "webhookEndpointRegexs[0].expression"},
		{name: "bad replacement", yaml: "webhookEndpointRegexs: [{expression: 'a', replacements: ['ftp://x/']}]", wantErr: "webhookEndpointRegexs[0].replacements[0]"},
		{name: "bad TLS flag", yaml: "whProxtSkipTLSVerifyUpstream: perhaps", wantErr: "whProxtSkipTLSVerifyUpstream"},
		{name: "error elsewhere is ignored", yaml: "promotionPrPolicy: nope\nwebhookEndpointRegexs: [{expression: 'a', replacements: ['https://x/']}]", rules: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := fanoutConfig([]byte(tc.yaml))
			if tc.wantErr != "" {
				var cerr *config.Error
				if !errors.As(err, &cerr) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a config error naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.WebhookEndpointRegexs) != tc.rules {
				t.Fatalf("%d rules, want %d", len(cfg.WebhookEndpointRegexs), tc.rules)
			}
		})
	}
	for key, want := range map[string]bool{
		"webhookEndpointRegexs": true, "webhookEndpointRegexs[3].expression": true, "whProxtSkipTLSVerifyUpstream": true,
		config.RootKey: true, "webhookEndpointRegexsExtra": false, "promotionPaths[0].sourcePath": false, "argocd.commentDiffonPR": false,
	} {
		if affectsFanout(key) != want {
			t.Errorf("affectsFanout(%q) = %v, want %v", key, !want, want)
		}
	}
}
