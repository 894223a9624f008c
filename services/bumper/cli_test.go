package bumper

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/telefonistka/telefonistka/pkg/events"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

const testSHA = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"

func TestParseCLI(t *testing.T) {
	env := map[string]string{
		"TARGET_REPO": "env/gitops", "TARGET_FILE": "env.yaml",
		"GITHUB_REPOSITORY": "env/code", "GITHUB_SHA": "abcdef0", "GITHUB_ACTOR": "env-actor",
	}
	getenv := func(k string) string { return env[k] }
	noenv := func(string) string { return "" }
	cases := []struct {
		name    string
		mode    string
		args    []string
		getenv  func(string) string
		want    events.BumpRequested
		file    string
		host    string
		wantErr string
	}{
		{
			name: "long flags", mode: events.BumpYAML, getenv: noenv,
			args: []string{"--target-repo", "acme/gitops", "--target-file=apps/values.yaml", "--github-host", "ghe.example.com",
				"--triggering-repo", "acme/billing", "--triggering-repo-sha", testSHA, "--triggering-actor", "octocat",
				"--auto-merge", "--address", ".image.tag", "--replacement-string", "v2"},
			want: events.BumpRequested{TargetRepo: "acme/gitops", TargetFile: "apps/values.yaml", Mode: events.BumpYAML,
				TriggeringRepo: "acme/billing", TriggeringSHA: testSHA, TriggeringActor: "octocat", AutoMerge: true,
				Address: ".image.tag", Replacement: "v2"},
			host: "ghe.example.com",
		},
		{
			name: "short flags", mode: events.BumpRegex, getenv: noenv,
			args: []string{"-t", "acme/gitops", "-f", "apps/values.yaml", "-g", "ghe.example.com", "-p", "acme/billing",
				"-s", testSHA, "-a", "octocat", "-r", `tag: \S+`, "-n", "tag: v2"},
			want: events.BumpRequested{TargetRepo: "acme/gitops", TargetFile: "apps/values.yaml", Mode: events.BumpRegex,
				TriggeringRepo: "acme/billing", TriggeringSHA: testSHA, TriggeringActor: "octocat",
				Regex: `tag: \S+`, Replacement: "tag: v2"},
			host: "ghe.example.com",
		},
		{
			name: "environment defaults", mode: events.BumpOverwrite, getenv: getenv,
			args: []string{"-c", "local.yaml"},
			want: events.BumpRequested{TargetRepo: "env/gitops", TargetFile: "env.yaml", Mode: events.BumpOverwrite,
				TriggeringRepo: "env/code", TriggeringSHA: "abcdef0", TriggeringActor: "env-actor"},
			file: "local.yaml",
		},
		{
			name: "flags win over the environment", mode: events.BumpOverwrite, getenv: getenv,
			args: []string{"--file", "x", "-t", "acme/gitops", "-a", "someone"},
			want: events.BumpRequested{TargetRepo: "acme/gitops", TargetFile: "env.yaml", Mode: events.BumpOverwrite,
				TriggeringRepo: "env/code", TriggeringSHA: "abcdef0", TriggeringActor: "someone"},
			file: "x",
		},
		{
			name: "explicit empty replacement", mode: events.BumpRegex, getenv: getenv,
			args: []string{"-r", "x", "-n", ""},
			want: events.BumpRequested{TargetRepo: "env/gitops", TargetFile: "env.yaml", Mode: events.BumpRegex,
				TriggeringRepo: "env/code", TriggeringSHA: "abcdef0", TriggeringActor: "env-actor", Regex: "x"},
		},
		{name: "missing everything", mode: events.BumpYAML, getenv: noenv,
			wantErr: "missing --target-repo, --target-file, --triggering-repo, --triggering-repo-sha, --address, --replacement-string"},
		{name: "missing replacement", mode: events.BumpRegex, getenv: getenv, args: []string{"-r", "x"}, wantErr: "missing --replacement-string"},
		{name: "missing file", mode: events.BumpOverwrite, getenv: getenv, wantErr: "missing --file"},
		{name: "unknown flag", mode: events.BumpYAML, getenv: getenv, args: []string{"--regex-string", "x"}, wantErr: "flag provided but not defined: -regex-string"},
		{name: "positional argument", mode: events.BumpOverwrite, getenv: getenv, args: []string{"-c", "x", "extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseCLI("bump-"+c.mode, c.mode, c.args, c.getenv)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.req, c.want) || p.file != c.file || p.host != c.host {
				t.Errorf("parsed %+v file %q host %q\nwant   %+v file %q host %q", p.req, p.file, p.host, c.want, c.file, c.host)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for cmd := range Commands {
		t.Run(cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := CLI(context.Background(), cmd, []string{"--help"}, &stdout, &stderr); code != ExitOK {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			golden(t, filepath.Join("usage", cmd+".golden"), stdout.Bytes())
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Setenv("GITHUB_OAUTH_TOKEN", "")
	common := []string{"-t", "acme/gitops", "-f", "values.yaml", "-p", "acme/billing", "-s", testSHA}
	cases := []struct {
		name, cmd string
		args      []string
		want      string
	}{
		{"unknown command", "bump-json", nil, `unknown bump command "bump-json"`},
		{"missing flags", "bump-yaml", nil, "missing --target-repo"},
		{"bad regex", "bump-regex", append([]string{"-r", "(", "-n", "x"}, common...), "compiling the regex"},
		{"bad address", "bump-yaml", append([]string{"--address", ".a[", "-n", "x"}, common...), "parsing the address"},
		{"address reading the environment", "bump-yaml", append([]string{"--address", "env(HOME)", "-n", "x"}, common...), "not allowed"},
		{"bad target repo", "bump-yaml", []string{"--address", ".a", "-n", "x", "-t", "gitops", "-f", "v.yaml", "-p", "acme/billing", "-s", testSHA}, "targetRepo"},
		{"sha unsafe in a branch name", "bump-yaml", []string{"--address", ".a", "-n", "x", "-t", "acme/gitops", "-f", "v.yaml", "-p", "acme/billing", "-s", "v1..2"}, `triggeringSha "v1..2" contains`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := CLI(context.Background(), c.cmd, c.args, &stdout, &stderr)
			if code != ExitUsage || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 mentioning %q", code, stdout.String(), stderr.String(), c.want)
			}
		})
	}
}

func TestGitHubHostWinsForAllCalls(t *testing.T) {
	t.Setenv("GITHUB_OAUTH_TOKEN", "token")
	t.Setenv("GITHUB_URL", "http://127.0.0.1:9/api/v3/")
	t.Setenv("GITHUB_HOST", "other.example.com")
	cfg, err := githubConfig("ghe.example.com")
	if err != nil {
		t.Fatal(err)
	}
	e, err := cfg.Endpoints()
	if err != nil {
		t.Fatal(err)
	}
	if e.REST.String() != "https://ghe.example.com/api/v3/" || e.GraphQL != "https://ghe.example.com/api/graphql" {
		t.Errorf("endpoints %s %s", e.REST, e.GraphQL)
	}
	cfg, err = githubConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := cfg.Endpoints(); e.REST.String() != "http://127.0.0.1:9/api/v3/" {
		t.Errorf("without the flag: %s", e.REST)
	}
	if _, err := githubConfig("bad host/x"); err == nil {
		t.Error("an invalid --github-host was accepted")
	}
}

func TestPrepareReportsInvalidRequests(t *testing.T) {
	r := events.BumpRequested{TargetRepo: "acme/gitops", TargetFile: "v.yaml", Mode: events.BumpRegex, Regex: "[",
		TriggeringRepo: "acme/billing", TriggeringSHA: testSHA}
	if _, _, err := prepare(&r); err == nil || !strings.Contains(err.Error(), "compiling the regex") {
		t.Fatalf("error %v", err)
	}
	r.Regex = "a(b)"
	target, req, err := prepare(&r)
	if err != nil || target.String() != "acme/gitops" || req.File != "v.yaml" || req.SHA != testSHA {
		t.Fatalf("prepare = %v %+v %v", target, req, err)
	}
}
