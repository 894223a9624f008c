package githubapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v52/github"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func writeTemplate(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "status-url.gotmpl")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatusTargetURL(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	target := StatusTarget{Owner: "acme", Repo: "gitops", PrNumber: 33, SHA: "abc123"}
	cases := []struct {
		name     string
		template string // "" = no template configured; "<missing>" = a path that does not exist
		want     string
	}{
		{"unset", "", ProjectHomeURL},
		{"missing file", "<missing>", ProjectHomeURL},
		{"commit time", "https://logs.example.com/?to={{.CommitTime.UnixMilli}}", "https://logs.example.com/?to=1741064767000"},
		{"fields", "https://ci.example.com/{{.Owner}}/{{.Repo}}/pull/{{.PrNumber}}/{{.SHA}}", "https://ci.example.com/acme/gitops/pull/33/abc123"},
		{"parse error", "https://x/{{.Owner", ProjectHomeURL},
		{"execution error", "https://x/{{.NoSuchField}}", ProjectHomeURL},
		{"not a URL", "see the dashboard", ProjectHomeURL},
		{"empty output", "{{if false}}x{{end}}", ProjectHomeURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.template
			switch path {
			case "":
			case "<missing>":
				path = filepath.Join(t.TempDir(), "missing.gotmpl")
			default:
				path = writeTemplate(t, tc.template)
			}
			s := NewStatusSetter(path, nil, quietLog)
			if got := s.TargetURL(target, at); got != tc.want {
				t.Errorf("TargetURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusTargetURLIsTrimmed(t *testing.T) {
	s := NewStatusSetter(writeTemplate(t, "\n  https://ci.example.com/{{.SHA}}  \n"), nil, quietLog)
	if got := s.TargetURL(StatusTarget{SHA: "f00"}, time.Now()); got != "https://ci.example.com/f00" {
		t.Errorf("TargetURL = %q", got)
	}
}

func TestDescription(t *testing.T) {
	long := strings.Repeat("é", 150)
	cases := []struct {
		state, reason, want string
	}{
		{StatePending, "", StatusDescription},
		{StateSuccess, "ignored for success", StatusDescription},
		{StateError, "", StatusDescription},
		{StateError, "Failed to get configuration", "Failed to get configuration"},
		{StateError, "line one\n  line two\t", "line one line two"},
		{StateError, long, strings.Repeat("é", 139) + "…"},
		{StateError, strings.Repeat("a", 140), strings.Repeat("a", 140)},
	}
	for _, tc := range cases {
		got := Description(tc.state, tc.reason)
		if got != tc.want {
			t.Errorf("Description(%s, %.20q) = %q, want %q", tc.state, tc.reason, got, tc.want)
		}
		if n := len([]rune(got)); n > 140 {
			t.Errorf("description has %d characters", n)
		}
	}
}

func TestSetStatus(t *testing.T) {
	var got struct {
		path string
		body map[string]string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path = r.Method + " " + r.URL.Path
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		if got.body["state"] == "bogus" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": 1})
	}))
	defer srv.Close()
	client := github.NewClient(nil)
	client.BaseURL, _ = url.Parse(srv.URL + "/api/v3/")

	m, _ := NewMetrics(nil)
	s := NewStatusSetter(writeTemplate(t, "https://ci.example.com/{{.Owner}}/{{.Repo}}/{{.PrNumber}}"), m, quietLog)
	target := StatusTarget{Owner: "acme", Repo: "gitops", PrNumber: 9, SHA: "deadbeef"}
	if err := s.Set(context.Background(), client.Repositories, target, StateError, "Failed to get configuration"); err != nil {
		t.Fatal(err)
	}
	if got.path != "POST /api/v3/repos/acme/gitops/statuses/deadbeef" {
		t.Errorf("request = %s", got.path)
	}
	want := map[string]string{"state": "error", "context": "telefonistka", "description": "Failed to get configuration",
		"target_url": "https://ci.example.com/acme/gitops/9"}
	for k, v := range want {
		if got.body[k] != v {
			t.Errorf("%s = %q, want %q", k, got.body[k], v)
		}
	}
	if n := testutil.ToFloat64(m.statusUpdates.WithLabelValues("acme/gitops", "error")); n != 1 {
		t.Errorf("commit_status_updates_total{acme/gitops,error} = %v, want 1", n)
	}

	err := s.Set(context.Background(), client.Repositories, target, "bogus", "")
	if !isPermanent(err) {
		t.Errorf("rejected status gives %v, want a permanent error", err)
	}
	if n := testutil.ToFloat64(m.statusUpdates.WithLabelValues("acme/gitops", "bogus")); n != 0 {
		t.Errorf("a failed update was counted")
	}
}
