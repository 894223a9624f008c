package config

import (
	"reflect"
	"testing"
)

func TestWebhookURLs(t *testing.T) {
	cfg, err := LoadRepoConfig("telefonistka.yaml", []byte(`
webhookEndpointRegexs:
  - expression: '^workspace/(?P<app>[^/]*)/'
    replacements: ["https://ci.example.com/${app}/hook", "https://all.example.com/"]
  - expression: '^clusters/([^/]*)/([^/]*)/'
    replacements: ["https://${1}.example.com/${2}x"]
  - expression: 'workspace'
    replacements: ["https://never.example.com/"]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.WebhookURLs([]string{"workspace/nginx/a.yaml", "workspace/redis/b.yaml", "workspace/nginx/c.yaml", "clusters/prod/eu/x", "README.md"})
	want := []string{
		"https://all.example.com/",
		"https://ci.example.com/nginx/hook",
		"https://ci.example.com/redis/hook",
		"https://prod.example.com/eux",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WebhookURLs = %q, want %q", got, want)
	}
}

func TestCaptureRefs(t *testing.T) {
	tests := map[string][]string{
		"https://x/$1/${2}/${name}/$$3/$foo.bar": {"1", "2", "name", "foo"},
		"$":                                      nil,
		"${unclosed":                             nil,
		"${bad-name}/$1x":                        {"1x"},
		"https://plain/path/":                    nil,
	}
	for in, want := range tests {
		if got := captureRefs(in); !reflect.DeepEqual(got, want) {
			t.Errorf("captureRefs(%q) = %q, want %q", in, got, want)
		}
	}
}
