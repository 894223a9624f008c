package githubapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestLoadConfigFromEnvironment(t *testing.T) {
	t.Setenv("GITHUB_OAUTH_TOKEN", "ghp_main")
	t.Setenv("GITHUB_APP_ID", "77")
	t.Setenv("GITHUB_APP_PRIVATE_KEY_PATH", "/keys/main.pem")
	t.Setenv("APPROVER_GITHUB_OAUTH_TOKEN", "ghp_approver")
	t.Setenv("APPROVER_GITHUB_APP_ID", "78")
	t.Setenv("APPROVER_GITHUB_APP_PRIVATE_KEY_PATH", "/keys/approver.pem")
	t.Setenv("GITHUB_HOST", "ghe.example.com")
	t.Setenv("GITHUB_URL", "")
	t.Setenv("CUSTOM_COMMIT_STATUS_URL_TEMPLATE_PATH", "/tmpl/status.gotmpl")
	t.Setenv("GITHUB_WRITE_RATE", "")
	t.Setenv("GITHUB_WRITE_BURST", " ")

	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		OAuthToken: "ghp_main", AppID: 77, AppPrivateKeyPath: "/keys/main.pem",
		ApproverOAuthToken: "ghp_approver", ApproverAppID: 78, ApproverAppPrivateKeyPath: "/keys/approver.pem",
		Host: "ghe.example.com", CommitStatusURLTemplatePath: "/tmpl/status.gotmpl",
		WriteRate: 1, WriteBurst: DefaultWriteBurst,
	}
	if c != want {
		t.Errorf("LoadConfig =\n%#v\nwant\n%#v", c, want)
	}
}

// Deployments of the original often set unused variables to "".
func TestLoadConfigTreatsEmptyAsUnset(t *testing.T) {
	for _, k := range []string{"GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY_PATH", "APPROVER_GITHUB_APP_ID",
		"GITHUB_HOST", "GITHUB_URL", "GITHUB_WRITE_RATE", "GITHUB_WRITE_BURST"} {
		t.Setenv(k, "")
	}
	t.Setenv("GITHUB_OAUTH_TOKEN", "ghp_main")
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.AppID != 0 || c.ApproverAppID != 0 || c.WriteRate != DefaultWriteRate || c.WriteBurst != DefaultWriteBurst {
		t.Errorf("LoadConfig = %+v", c)
	}
	t.Setenv("GITHUB_WRITE_RATE", "0.5")
	t.Setenv("GITHUB_WRITE_BURST", "2")
	if c, err = LoadConfig(); err != nil || c.WriteRate != 0.5 || c.WriteBurst != 2 {
		t.Errorf("LoadConfig = %+v, %v", c, err)
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	t.Setenv("GITHUB_OAUTH_TOKEN", "ghp_secret_value")
	t.Setenv("GITHUB_APP_ID", "not-a-number")
	_, err := LoadConfig()
	if err == nil || !strings.Contains(err.Error(), "GITHUB_APP_ID") {
		t.Fatalf("err = %v, want a GITHUB_APP_ID error", err)
	}
	if strings.Contains(err.Error(), "ghp_secret_value") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{OAuthToken: "t"}
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"token", func(*Config) {}, ""},
		{"app", func(c *Config) { c.OAuthToken, c.AppID, c.AppPrivateKeyPath = "", 3, "/k.pem" }, ""},
		{"no identity", func(c *Config) { c.OAuthToken = "" }, "no GitHub identity"},
		{"app id without key", func(c *Config) { c.AppID = 3 }, "GITHUB_APP_PRIVATE_KEY_PATH is empty"},
		{"key without app id", func(c *Config) { c.AppPrivateKeyPath = "/k.pem" }, "GITHUB_APP_ID is empty"},
		{"negative app id", func(c *Config) { c.AppID, c.AppPrivateKeyPath = -3, "/k.pem" }, "must be positive"},
		{"bad url", func(c *Config) { c.URL = "ftp://x/api/v3" }, "absolute http or https URL"},
		{"url with credentials", func(c *Config) { c.URL = "https://user:hunter2@x/api/v3" }, "must not carry credentials"},
		{"bad host", func(c *Config) { c.Host = "ghe.example.com/api" }, "not a host name"},
		{"zero pacing means defaults", func(c *Config) { c.WriteRate, c.WriteBurst = 0, 0 }, ""},
		{"negative rate", func(c *Config) { c.WriteRate = -1 }, "GITHUB_WRITE_RATE"},
		{"negative burst", func(c *Config) { c.WriteBurst = -2 }, "GITHUB_WRITE_BURST"},
		{"approver is not checked", func(c *Config) { c.ApproverAppID = 9 }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want mentioning %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	cases := []struct {
		name                  string
		host, url             string
		rest, upload, graphQL string
	}{
		{"github.com", "", "", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com/graphql"},
		{"host", "ghe.example.com", "", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/", "https://ghe.example.com/api/graphql"},
		{"host with scheme", "https://ghe.example.com/", "", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/", "https://ghe.example.com/api/graphql"},
		{"host with http scheme still https", "http://ghe.example.com", "", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/", "https://ghe.example.com/api/graphql"},
		{"host with port", "ghe.example.com:8443", "", "https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443/api/uploads/", "https://ghe.example.com:8443/api/graphql"},
		{"host github.com", "github.com", "", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com/graphql"},
		{"url wins", "ghe.example.com", "http://127.0.0.1:9000/api/v3/", "http://127.0.0.1:9000/api/v3/", "http://127.0.0.1:9000/api/uploads/", "http://127.0.0.1:9000/api/graphql"},
		{"url without slash", "", "http://127.0.0.1:9000/api/v3", "http://127.0.0.1:9000/api/v3/", "http://127.0.0.1:9000/api/uploads/", "http://127.0.0.1:9000/api/graphql"},
		{"url with other path", "", "https://proxy.example.com/github/", "https://proxy.example.com/github/", "https://proxy.example.com/github/", "https://proxy.example.com/api/graphql"},
		{"url of github.com", "", "https://api.github.com/", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com/graphql"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Config{Host: tc.host, URL: tc.url}.Endpoints()
			if err != nil {
				t.Fatal(err)
			}
			if e.REST.String() != tc.rest || e.Upload.String() != tc.upload || e.GraphQL != tc.graphQL {
				t.Errorf("got REST %s, upload %s, GraphQL %s\nwant REST %s, upload %s, GraphQL %s",
					e.REST, e.Upload, e.GraphQL, tc.rest, tc.upload, tc.graphQL)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const tok, approver = "ghp_MAIN_SECRET_123", "ghp_APPROVER_SECRET_456"
	c := Config{OAuthToken: tok, ApproverOAuthToken: approver, AppPrivateKeyPath: "/k.pem"}

	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "cfg", c, "token", c.OAuthToken)
	jsonOut, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", c),
		"%+v":    fmt.Sprintf("%+v", c),
		"%#v":    fmt.Sprintf("%#v", c),
		"%q":     fmt.Sprintf("%q", c.OAuthToken),
		"%x":     fmt.Sprintf("%x", c.OAuthToken),
		"%d":     fmt.Sprintf("%d", c.OAuthToken),
		"String": c.OAuthToken.String(),
		"error":  fmt.Errorf("loading %v: %w", c, errTest).Error(),
		"slog":   logBuf.String(),
		"json":   string(jsonOut),
	}
	hexTok := fmt.Sprintf("%x", tok)
	for name, out := range outputs {
		if strings.Contains(out, tok) || strings.Contains(out, approver) || strings.Contains(out, hexTok) {
			t.Errorf("%s output leaks a token: %s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s output does not show %s: %s", name, redacted, out)
		}
	}
	if c.OAuthToken.Reveal() != tok {
		t.Error("Reveal does not return the value")
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("empty secret prints %q", got)
	}
}

var errTest = fmt.Errorf("test")
