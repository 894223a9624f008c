package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/emulator"
)

const (
	demoRepo      = "acme/gitops"
	demoBot       = "telefonistka-bot"
	demoApprover  = "release-approver"
	demoDeveloper = "alice"
)

// runDemo starts the GitHub emulator with the sample repository, runs every
// service against it on an embedded NATS server, merges a developer's change
// and prints the promotion PRs as Telefonistka opens and merges them.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repoDir := fs.String("repo-dir", "examples/gitops-repo", "directory holding the sample GitOps repository")
	dataDir := fs.String("data", "", "NATS data directory (default: a fresh temporary directory)")
	keep := fs.Bool("keep", false, "keep running after the chain completes, to explore with curl or the nats CLI")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up if the chain has not completed by then")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat(filepath.Join(*repoDir, "telefonistka.yaml")); err != nil {
		fmt.Fprintf(stderr, "telefonistka demo: %s has no telefonistka.yaml (run from the repository root or pass --repo-dir)\n", *repoDir)
		return 2
	}
	if err := demo(ctx, demoOptions{repoDir: *repoDir, dataDir: *dataDir, keep: *keep, timeout: *timeout}, stdout); err != nil {
		fmt.Fprintln(stderr, "telefonistka demo:", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	repoDir, dataDir string
	keep             bool
	timeout          time.Duration
}

func demo(ctx context.Context, o demoOptions, out io.Writer) error {
	if o.dataDir == "" {
		dir, err := os.MkdirTemp("", "telefonistka-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dataDir = dir
	}
	botToken, approverToken, secret := randomHex(), randomHex(), randomHex()
	emu, err := emulator.New(emulator.Options{Tokens: map[string]string{botToken: demoBot, approverToken: demoApprover}})
	if err != nil {
		return err
	}
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { _ = emu.Close() }()
	owner, name, _ := strings.Cut(demoRepo, "/")
	if err := emu.CreateRepoFromDir(owner, name, o.repoDir); err != nil {
		return fmt.Errorf("creating %s from %s: %w", demoRepo, o.repoDir, err)
	}

	logPath := filepath.Join(o.dataDir, "telefonistka.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	for k, v := range map[string]string{
		"GITHUB_URL": emu.URL(), "GITHUB_OAUTH_TOKEN": botToken, "APPROVER_GITHUB_OAUTH_TOKEN": approverToken,
		"GITHUB_WEBHOOK_SECRET": secret, "TELEFONISTKA_DATA_DIR": filepath.Join(o.dataDir, "nats"),
		"LISTEN_ADDRESS": "127.0.0.1:0", "LOG_FORMAT": "text", "NATS_URL": "", "PR_METRICS_INTERVAL": "10s",
		// The emulator needs no pacing of content-creating calls.
		"GITHUB_WRITE_RATE": "100", "GITHUB_WRITE_BURST": "100",
	} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	cfg, err := app.LoadConfig()
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	listening := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- app.Run(runCtx, cfg, app.RunOptions{Embedded: true, LogOutput: logFile,
			Listening: func(addr string) { listening <- addr }}, services...)
	}()
	var addr string
	select {
	case addr = <-listening:
	case err := <-runErr:
		return fmt.Errorf("starting telefonistka (log: %s): %w", logPath, err)
	case <-time.After(30 * time.Second):
		return errors.New("telefonistka did not start within 30s")
	}
	emu.SetWebhook("http://"+addr+"/webhook", secret)
	fmt.Fprintf(out, "Telefonistka demo\n  GitHub emulator  %s  (repository %s from %s)\n  Telefonistka     http://%s/webhook  (every service, embedded NATS)\n  Logs             %s\n\n",
		emu.URL(), demoRepo, o.repoDir, addr, logPath)

	merged, err := developerChange(emu, out)
	if err != nil {
		return err
	}
	if err := watchChain(ctx, emu, out, merged, o.timeout); err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "\nStill running (Ctrl-C to stop).")
		select {
		case <-ctx.Done():
		case err := <-runErr:
			return err
		}
	}
	stop()
	return <-runErr
}

// developerChange plays the developer: bump the nginx image in workspace/,
// open a PR and merge it.
func developerChange(emu *emulator.Emulator, out io.Writer) (int, error) {
	const path = "workspace/nginx/deployment.yaml"
	old, err := emu.ReadFile(demoRepo, "main", path)
	if err != nil {
		return 0, err
	}
	updated := bumpImage(old)
	if _, err := emu.Push(demoRepo, "bump-nginx", demoDeveloper, "Bump nginx", map[string]*string{path: &updated}); err != nil {
		return 0, err
	}
	pr, err := emu.OpenPullRequest(demoRepo, emulator.PullRequestSpec{Author: demoDeveloper, Title: "Bump nginx", Head: "bump-nginx"})
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "%s opens PR #%d \"Bump nginx\" changing %s\n", demoDeveloper, pr, path)
	if _, err := emu.MergePullRequest(demoRepo, pr, demoDeveloper); err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "%s merges PR #%d\n", demoDeveloper, pr)
	return pr, nil
}

// bumpImage raises the patch version of the first "image: nginx:" line.
func bumpImage(manifest string) string {
	lines := strings.Split(manifest, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "image: nginx:"); j >= 0 {
			tag := l[j+len("image: nginx:"):]
			var major, minor, patch int
			if _, err := fmt.Sscanf(tag, "%d.%d.%d", &major, &minor, &patch); err == nil {
				lines[i] = l[:j] + fmt.Sprintf("image: nginx:%d.%d.%d", major, minor, patch+1)
			}
			break
		}
	}
	return strings.Join(lines, "\n")
}

// watchChain prints promotion PRs as they open and merge, until every stage
// of the sample repository has a PR: the auto-merged lab+staging PR, then one
// open PR per prod cluster.
func watchChain(ctx context.Context, emu *emulator.Emulator, out io.Writer, origin int, timeout time.Duration) error {
	start := time.Now()
	deadline := start.Add(timeout)
	at := func() string { return fmt.Sprintf("%5.1fs", time.Since(start).Seconds()) }
	seen := map[int]string{}
	for {
		prs, err := emu.PullRequests(demoRepo)
		if err != nil {
			return err
		}
		sort.Slice(prs, func(i, j int) bool { return prs[i].Number < prs[j].Number })
		openProd := 0
		for _, pr := range prs {
			if pr.Number == origin || pr.Author == demoDeveloper {
				continue
			}
			state := pr.State
			if pr.Merged {
				state = "merged"
			}
			if seen[pr.Number] != state {
				switch {
				case seen[pr.Number] == "":
					fmt.Fprintf(out, "%s  #%d opened by %s: %s\n", at(), pr.Number, pr.Author, pr.Title)
					if state == "merged" {
						fmt.Fprintf(out, "%s  #%d merged by %s\n", at(), pr.Number, pr.MergedBy)
					}
				case state == "merged":
					fmt.Fprintf(out, "%s  #%d merged by %s\n", at(), pr.Number, pr.MergedBy)
				default:
					fmt.Fprintf(out, "%s  #%d %s\n", at(), pr.Number, state)
				}
				seen[pr.Number] = state
			}
			if state == "open" && strings.Contains(pr.Title, "prod") {
				openProd++
			}
		}
		if openProd >= 2 {
			return summarize(emu, out, prs, origin)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the promotion chain did not complete within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// summarize shows where the change landed: for each promotion PR, the image
// lines it changes compared with what it was based on (main for an open PR,
// the developer's merge for the one already merged).
func summarize(emu *emulator.Emulator, out io.Writer, prs []emulator.PullRequest, origin int) error {
	originPR, err := emu.GetPullRequest(demoRepo, origin)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe change reached every stage; lab and staging were merged automatically, prod waits for review:")
	for _, pr := range prs {
		if pr.Number == origin || pr.Author == demoDeveloper {
			continue
		}
		ref, base := pr.Head, "main"
		if pr.Merged {
			ref, base = pr.MergeCommitSHA, originPR.MergeCommitSHA
		}
		after, err := emu.ListFiles(demoRepo, ref, "clusters/")
		if err != nil {
			return err
		}
		before, err := emu.ListFiles(demoRepo, base, "clusters/")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  #%d %-6s [%s] %s\n", pr.Number, map[bool]string{true: "merged", false: "open"}[pr.Merged], strings.Join(pr.Labels, ", "), pr.Title)
		paths := make([]string, 0, len(after))
		for p := range after {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if img := imageLine(after[p]); img != "" && img != imageLine(before[p]) {
				fmt.Fprintf(out, "      %s  %s\n", p, img)
			}
		}
	}
	fmt.Fprintf(out, "\nExplore: curl -s %srepos/%s/pulls | jq '.[].title'   (with --keep)\n", emu.URL(), demoRepo)
	return nil
}

func imageLine(manifest string) string {
	for _, l := range strings.Split(manifest, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "image:") {
			return t
		}
	}
	return ""
}

func randomHex() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
