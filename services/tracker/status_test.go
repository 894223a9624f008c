package tracker

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/telefonistka/telefonistka/services/tracker/internal/golden"
	"github.com/telefonistka/telefonistka/services/tracker/internal/sample"
)

// sampleServer serves the tracker's routes over the sample chains.
func sampleServer(t *testing.T) *httptest.Server {
	t.Helper()
	m, err := sample.Model()
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	(&Service{model: m}).Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func runStatus(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = StatusCLI(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestStatusCLI(t *testing.T) {
	srv := sampleServer(t)
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"status-recent.golden", nil},
		{"status-pr.golden", []string{"--pr", "10"}},
		{"status-path.golden", []string{"--path", "clusters/prod/us-1/"}},
		{"status-path-component.golden", []string{"--path", "clusters/prod/eu-1/nginx"}},
		{"status-pr.json", []string{"--pr", "30", "--json"}},
	} {
		code, out, errOut := runStatus(append([]string{"--repo", "acme/gitops", "--url", srv.URL}, c.args...)...)
		if code != 0 || errOut != "" {
			t.Fatalf("status %v: exit %d, stderr %q", c.args, code, errOut)
		}
		golden.Check(t, c.golden, out)
	}
}

func TestStatusCLIErrors(t *testing.T) {
	srv := sampleServer(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "--repo OWNER/NAME is required"},
		{[]string{"--repo", "acme"}, 2, `repository "acme" is not of the form owner/name`},
		{[]string{"--repo", "acme/gitops", "--pr", "1", "--path", "x"}, 2, "--pr and --path cannot be combined"},
		{[]string{"--repo", "acme/gitops", "--url", "ftp://x"}, 2, "is not an http(s) address"},
		{[]string{"--repo", "acme/gitops", "--url", srv.URL, "--pr", "11"}, 1, "the tracker knows no promotion of acme/gitops#11"},
		{[]string{"--repo", "acme/gitops", "--url", "http://127.0.0.1:1"}, 1, "reaching the tracker"},
	} {
		code, out, errOut := runStatus(c.args...)
		if code != c.code || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("status %v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}
	code, out, _ := runStatus("--help")
	if code != 0 || !strings.Contains(out, "Usage: telefonistka status --repo OWNER/NAME") || !strings.Contains(out, "-path") {
		t.Errorf("--help: exit %d:\n%s", code, out)
	}
}
