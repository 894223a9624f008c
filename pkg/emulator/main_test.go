package emulator_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telefonistka/telefonistka/pkg/emulator"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMainUsageErrors(t *testing.T) {
	tests := [][]string{
		{"--repo", "no-slash=dir"},
		{"--repo", "acme/gitops"},
		{"--token", "=login"},
		{"--app", "x=slug"},
		{"--webhook-secret", "s"},
		{"--unknown-flag"},
		{"stray"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			if code := emulator.Main(context.Background(), args, &out, &errOut); code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %s)", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), "Usage") && !strings.Contains(errOut.String(), "flag provided but not defined") {
				t.Errorf("stderr lacks usage: %s", errOut.String())
			}
		})
	}
	if code := emulator.Main(context.Background(), []string{"--repo", "acme/x=" + filepath.Join(t.TempDir(), "missing")}, &syncBuffer{}, &syncBuffer{}); code != 1 {
		t.Errorf("missing repo directory: exit %d, want 1", code)
	}
}

func TestMainServesRepositories(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "env", "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "env", "dev", "app.yaml"), []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- emulator.Main(ctx, []string{"--listen", "127.0.0.1:0", "--repo", "acme/gitops=" + dir,
			"--token", "t1=telefonistka-bot", "--token", "t2=approver", "--app", "5=promoter"}, &out, &errOut)
	}()
	re := regexp.MustCompile(`REST (http://\S+/api/v3/)`)
	var base string
	for i := 0; i < 100 && base == ""; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no listening line; stdout %q stderr %q", out.String(), errOut.String())
	}
	c := clientFor(t, base, "t2")
	u, _, err := c.Users.Get(context.Background(), "")
	if err != nil || u.GetLogin() != "approver" {
		t.Errorf("user = %v, %v", u.GetLogin(), err)
	}
	f, _, _, err := c.Repositories.GetContents(context.Background(), "acme", "gitops", "env/dev/app.yaml", nil)
	if content, _ := f.GetContent(); err != nil || content != "x: 1\n" {
		t.Errorf("file = %q, %v", content, err)
	}
	if _, _, err := clientFor(t, base, "nope").Users.Get(context.Background(), ""); statusOf(err) != 401 {
		t.Errorf("unknown token = %v, want 401", err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code = %d (stderr %s)", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}
