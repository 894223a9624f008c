package tracker

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserEnv names the browser the page test drives (default: chromium,
// chromium-browser or google-chrome from PATH).
const BrowserEnv = "TRACKER_BROWSER"

func findBrowser() string {
	if b := os.Getenv(BrowserEnv); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestPageInABrowser opens the repository page of the sample chains in
// headless Chromium: the recent changes with their progress, the
// environment matrix with its links, and a change's page reached by
// clicking; a screenshot of each page goes to the test's output directory.
func TestPageInABrowser(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no chromium to drive: install it (apt-get install -y chromium) or set " + BrowserEnv + "; the page test is skipped")
	}
	srv := sampleServer(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	page := srv.URL + "/tracker/acme/gitops"
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#matrix"))); err != nil {
		t.Fatalf("loading %s: %v", page, err)
	}
	saveShot(t, "repository.png", run(t, ctx, chromedp.FullScreenshot(100)))
	title := run(t, ctx, chromedp.Title())
	changes := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#changes tbody tr").length`))
	progress := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#changes progress")].map(p => p.value + "/" + p.max).join(" ")`))
	if title != "acme/gitops · Telefonistka" || changes != 3 || progress != "1/2 1/3 2/3" {
		t.Errorf("changes: title %q, %d rows, progress %q", title, changes, progress)
	}
	header := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#matrix thead th")].map(th => th.textContent).join(",")`))
	rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#matrix tbody tr").length`))
	running := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#matrix a.cur").length`))
	waiting := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#matrix a.wait").length`))
	link := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#matrix a.wait").href`))
	if rows != 4 || header != "target,nginx,redis" || running != 5 || waiting != 3 || link != "https://github.com/acme/gitops/pull/22" {
		t.Errorf("matrix: %d rows, header %q, %d running, %d waiting, first waiting link %q", rows, header, running, waiting, link)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/tracker/acme/gitops/changes/30"]`)),
		chromedp.WaitVisible(chromedp.CSS("#steps"))); err != nil {
		t.Fatalf("following the link to change #30: %v", err)
	}
	saveShot(t, "change-30.png", run(t, ctx, chromedp.FullScreenshot(100)))
	location := run(t, ctx, chromedp.Location())
	steps := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#steps tbody tr").length`))
	state := run(t, ctx, chromedp.Text(chromedp.CSS("main p .state")))
	if !strings.HasSuffix(location, "/tracker/acme/gitops/changes/30") || steps != 2 || !strings.HasPrefix(state, "a step failed") {
		t.Errorf("change page: %s, %d steps, state %q", location, steps, state)
	}
}

// run runs one browser action and returns its result.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("in the browser: %v", err)
	}
	return v
}

// saveShot checks that a screenshot is an image and keeps it in the
// test's output directory (go test -artifacts -outputdir DIR).
func saveShot(t *testing.T, name string, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 200 {
		t.Errorf("screenshot %s is %dx%d", name, b.Dx(), b.Dy())
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
