package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The demo runs the whole system (emulator, ingress, planner, promoter and
// the rest on an embedded NATS) and its output is what a newcomer reads
// first, so it is checked against a golden file. With --keep it stays up,
// and the commands it prints under "Explore" work: the PR list answers 200
// with the printed token, `github-emulator merge` merges a prod PR, the
// NATS URL accepts connections; the log file it names outlives it.
func TestDemoPromotesThroughEveryStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every service")
	}
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, demoOptions{repoDir: filepath.Join("..", "..", "examples", "gitops-repo"), keep: true, timeout: 90 * time.Second}, &out)
	}()
	for !strings.Contains(out.String(), "Still running") {
		select {
		case err := <-done:
			t.Fatalf("demo: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	text := out.String()
	exploreWorks(t, text)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo after Ctrl-C: %v", err)
	}
	logPath := demoLogPath.FindStringSubmatch(text)
	if logPath == nil {
		t.Fatalf("no log path in:\n%s", text)
	}
	if st, err := os.Stat(logPath[1]); err != nil || st.Size() == 0 {
		t.Errorf("the log file %s did not outlive the demo: %v", logPath[1], err)
	}
	_ = os.Remove(logPath[1])

	got := normalizeDemo(text)
	// The two prod PRs are opened concurrently, so their numbers and the
	// order of their lines vary: compare the lines, not their order.
	if want := golden(t, "demo.golden", got); sortedLines(got) != sortedLines(want) {
		t.Fatalf("demo output differs from testdata/demo.golden:\n%s", got)
	}
}

// exploreWorks runs the commands the demo printed under "Explore".
func exploreWorks(t *testing.T, text string) {
	t.Helper()
	curl := demoCurl.FindStringSubmatch(text)
	if curl == nil {
		t.Fatalf("no curl command in:\n%s", text)
	}
	req, _ := http.NewRequest(http.MethodGet, curl[2], nil)
	req.Header.Set("Authorization", "token "+curl[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Promotion") {
		t.Errorf("the printed curl command answers %d: %s", resp.StatusCode, body)
	}
	merge := demoMerge.FindStringSubmatch(text)
	if merge == nil {
		t.Fatalf("no merge command in:\n%s", text)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), strings.Fields(merge[1]), &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "merged #") {
		t.Errorf("the printed merge command: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	status := demoStatus.FindStringSubmatch(text)
	if status == nil {
		t.Fatalf("no status command in:\n%s", text)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), strings.Fields(status[1]), &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "merged") || !strings.Contains(stdout.String(), "open, waiting for review") {
		t.Errorf("the printed status command: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	page := demoPage.FindStringSubmatch(text)
	if page == nil {
		t.Fatalf("no tracker page in:\n%s", text)
	}
	if resp, err := http.Get(page[1]); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the printed tracker page: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	natsURL := demoNATS.FindStringSubmatch(text)
	if natsURL == nil {
		t.Fatalf("no NATS URL in:\n%s", text)
	}
	nc, err := nats.Connect(natsURL[1])
	if err != nil {
		t.Errorf("the printed NATS URL: %v", err)
	} else {
		nc.Close()
	}
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// syncBuffer is the demo's output, read while the demo writes it.
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

var (
	demoCurl    = regexp.MustCompile(`curl -s -H 'Authorization: token ([0-9a-f]+)' (\S+)`)
	demoMerge   = regexp.MustCompile(`telefonistka (github-emulator merge [^#\n]+?)\s+#`)
	demoNATS    = regexp.MustCompile(`NATS +(nats://\S+)`)
	demoStatus  = regexp.MustCompile(`telefonistka (status [^#\n]+?)\s+#`)
	demoPage    = regexp.MustCompile(`Tracker +(http://\S+)`)
	demoLogPath = regexp.MustCompile(`Logs +(\S+)`)
	demoTokens  = regexp.MustCompile(`token [0-9a-f]{32}`)
	demoMergeN  = regexp.MustCompile(`(--as alice) \d+`)
	demoPorts   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	demoTimes   = regexp.MustCompile(`(?m)^ *\d+\.\ds  `)
	demoRepoDir = regexp.MustCompile(`from \S+\)`)
	demoPRs     = regexp.MustCompile(`#[2-9]\b`)
)

// normalizeDemo removes what changes from run to run: ports, timings, paths.
// The order in which PRs are first seen within one poll is not fixed either,
// so the timed lines keep their content but not their timing.
func normalizeDemo(s string) string {
	s = demoPorts.ReplaceAllString(s, "127.0.0.1:PORT")
	s = demoTimes.ReplaceAllString(s, "  T  ")
	s = demoLogPath.ReplaceAllString(s, "Logs  LOG")
	s = demoTokens.ReplaceAllString(s, "token TOKEN")
	s = demoMergeN.ReplaceAllString(s, "$1 N")
	s = demoPRs.ReplaceAllString(s, "#N")
	return demoRepoDir.ReplaceAllString(s, "from DIR)")
}
