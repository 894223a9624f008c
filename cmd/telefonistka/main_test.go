package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command answers --help (and -h, and `help <command>`) with its
// usage on stdout and exit 0, as people expect of a CLI.
func TestHelpGoesToStdout(t *testing.T) {
	ctx := context.Background()
	for name := range commands() {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			var stdout, stderr bytes.Buffer
			code := run(ctx, args, &stdout, &stderr)
			if code != 0 || !strings.Contains(strings.ToLower(stdout.String()), "usage") || stderr.Len() != 0 {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want the usage on stdout and exit 0", args, code, stdout.String(), stderr.String())
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, args, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "Commands:") || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, nil, &stdout, &stderr); code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "Commands:") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q; want the usage on stderr and exit 2", code, stdout.String(), stderr.String())
	}
	if code := run(ctx, []string{"server", "--bogus"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

// `server` with nothing configured names every missing setting at once and
// leaves no data directory behind.
func TestServerReportsEveryMissingSettingBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for k, v := range map[string]string{
		"GITHUB_OAUTH_TOKEN": "", "GITHUB_APP_ID": "", "GITHUB_APP_PRIVATE_KEY_PATH": "", "GITHUB_WEBHOOK_SECRET": "",
		"NATS_URL": "", "TELEFONISTKA_DATA_DIR": data, "LOG_LEVEL": "loud",
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"server"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr.String())
	}
	checkGolden(t, "server-missing-settings.golden", stderr.String())
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was created (%v)", err)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	if want := golden(t, name, got); want != got {
		t.Errorf("testdata/%s differs (run with -update to accept):\n--- want\n%s--- got\n%s", name, want, got)
	}
}

// golden returns testdata/name, first rewriting it with got under -update.
func golden(t *testing.T, name, got string) string {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(want)
}
