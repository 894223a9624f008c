package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
	fs := newFlagSet("demo", "[flags]",
		"Runs every service against the built-in GitHub emulator holding a sample GitOps repository and a\n"+
			"test Argo CD server, has a developer merge a change, and prints the promotion PRs Telefonistka\n"+
			"opens and merges, an Argo CD diff comment, and a no-diff promotion PR merged by argodiff.")
	repoDir := fs.String("repo-dir", "examples/gitops-repo", "directory holding the sample GitOps repository")
	argoFixture := fs.String("argocd-fixture", "", "the test Argo CD server's applications (default: argocd-fixture.yaml beside --repo-dir)")
	dataDir := fs.String("data", "", "NATS data directory (default: a fresh temporary directory)")
	keep := fs.Bool("keep", false, "keep running after the chain completes, to explore with curl, the nats CLI and github-emulator pr/merge (make run KEEP=1)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up if the chain has not completed by then")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if _, err := os.Stat(filepath.Join(*repoDir, "telefonistka.yaml")); err != nil {
		fmt.Fprintf(stderr, "telefonistka demo: %s has no telefonistka.yaml (run from the repository root or pass --repo-dir)\n", *repoDir)
		return 2
	}
	self := "telefonistka"
	if strings.HasPrefix(filepath.Base(os.Args[0]), "telefonistka") && !strings.HasSuffix(os.Args[0], ".test") {
		self = os.Args[0] // bin/telefonistka under make run
	}
	if err := demo(ctx, demoOptions{repoDir: *repoDir, argoFixture: *argoFixture, dataDir: *dataDir, keep: *keep, timeout: *timeout, self: self}, stdout); err != nil {
		fmt.Fprintln(stderr, "telefonistka demo:", err)
		return 1
	}
	return 0
}

type demoOptions struct {
	repoDir, dataDir string
	// argoFixture seeds the test Argo CD server ("": argocd-fixture.yaml
	// beside repoDir).
	argoFixture string
	keep        bool
	timeout     time.Duration
	// self is how to run this binary in the printed commands.
	self string
}

func demo(ctx context.Context, o demoOptions, out io.Writer) error {
	logFile, err := demoLog(o.dataDir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	logPath := logFile.Name()
	if o.dataDir == "" {
		dir, err := os.MkdirTemp("", "telefonistka-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dataDir = dir
	}
	if o.self == "" {
		o.self = "telefonistka"
	}
	botToken, approverToken, developerToken, secret := randomHex(), randomHex(), randomHex(), randomHex()
	emu, err := emulator.New(emulator.Options{Tokens: map[string]string{
		botToken: demoBot, approverToken: demoApprover, developerToken: demoDeveloper}})
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

	if o.argoFixture == "" {
		o.argoFixture = filepath.Join(filepath.Dir(filepath.Clean(o.repoDir)), "argocd-fixture.yaml")
	}
	argo, err := startArgoCD(ctx, o.argoFixture, emu, botToken, logFile)
	if err != nil {
		return fmt.Errorf("starting the test Argo CD server (--argocd-fixture): %w", err)
	}
	defer func() { _ = argo.Close() }()

	for k, v := range map[string]string{
		"GITHUB_URL": emu.URL(), "GITHUB_OAUTH_TOKEN": botToken, "APPROVER_GITHUB_OAUTH_TOKEN": approverToken,
		"GITHUB_WEBHOOK_SECRET": secret, "TELEFONISTKA_DATA_DIR": filepath.Join(o.dataDir, "nats"),
		"LISTEN_ADDRESS": "127.0.0.1:0", "LOG_FORMAT": "text", "NATS_URL": "", "PR_METRICS_INTERVAL": "10s",
		// The emulator needs no pacing of content-creating calls.
		"GITHUB_WRITE_RATE": "100", "GITHUB_WRITE_BURST": "100",
		"TRACKER_COMMENT_DELAY": demoCommentDelay,
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
	started := make(chan *app.Env, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- app.Run(runCtx, cfg, app.RunOptions{Embedded: true, LogOutput: logFile,
			Listening: func(addr string) { listening <- addr },
			Started:   func(e *app.Env) { started <- e }}, services...)
	}()
	var addr string
	var env *app.Env
	for addr == "" || env == nil {
		select {
		case addr = <-listening:
		case env = <-started:
		case err := <-runErr:
			return fmt.Errorf("starting telefonistka (log: %s): %w", logPath, err)
		case <-time.After(30 * time.Second):
			return errors.New("telefonistka did not start within 30s")
		}
	}
	nats := env.Conn.NC.ConnectedUrl()
	emu.SetWebhook("http://"+addr+"/webhook", secret)
	pageURL := "http://" + addr + "/tracker/" + demoRepo
	fmt.Fprintf(out, "Telefonistka demo\n  GitHub emulator  %s  (repository %s from %s)\n  Argo CD          %s  (test server: %d applications from %s)\n  Telefonistka     http://%s/webhook  (every service)\n  Tracker          %s  (each change's journey, what each environment runs)\n  NATS             %s  (embedded; the events: nats --server %s sub '>')\n  Logs             %s  (kept after the demo)\n\n",
		emu.URL(), demoRepo, o.repoDir, argo.Addr(), len(argo.Apps()), o.argoFixture, addr, pageURL, nats, nats, logPath)

	merged, err := developerChange(emu, out)
	if err != nil {
		return err
	}
	chain, err := watchChain(ctx, env.Conn.JS, emu, out, merged, 1, o.timeout)
	if err != nil {
		return err
	}
	if err := summarize(emu, out, chain, merged); err != nil {
		return err
	}
	if err := argo.sync(ctx); err != nil {
		return err
	}
	var prod []int
	for _, pr := range chain {
		if pr.State == "open" && strings.Contains(pr.Title, "prod") {
			prod = append(prod, pr.Number)
		}
	}
	if eu := prodPR(chain, "eu-1"); eu != 0 {
		if err := showArgoDiff(emu, out, eu, "prod eu-1"); err != nil {
			return err
		}
	}
	open, err := followComment(ctx, env.Conn.JS, emu, out, merged, prod, pageURL, o.timeout)
	if err != nil {
		return err
	}
	if err := argo.sync(ctx); err != nil { // prod eu-1 runs the merge
		return err
	}
	if err := noDiffChange(ctx, env.Conn.JS, emu, argo, out, o.timeout); err != nil {
		return err
	}
	explore(out, o, emu.URL(), developerToken, open, addr, merged)
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

// watchChain prints the promotion PRs numbered from first on as they open
// and merge, until the chain has come to rest (chainSettled): with the
// sample repository and a change of workspace/, the auto-merged lab+staging
// PR, then one labelled open PR per prod cluster. It returns those PRs as
// they are then.
func watchChain(ctx context.Context, js jetstream.JetStream, emu *emulator.Emulator, out io.Writer, origin, first int,
	timeout time.Duration) ([]emulator.PullRequest, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	at := func() string { return fmt.Sprintf("%5.1fs", time.Since(start).Seconds()) }
	seen := map[int]string{}
	for {
		// Settled before the PRs are read: what is printed last is the
		// final state.
		settled, err := chainSettled(ctx, js, emu)
		if err != nil {
			return nil, err
		}
		prs, err := emu.PullRequests(demoRepo)
		if err != nil {
			return nil, err
		}
		sort.Slice(prs, func(i, j int) bool { return prs[i].Number < prs[j].Number })
		var chain []emulator.PullRequest
		for _, pr := range prs {
			if pr.Number < first || pr.Number == origin || pr.Author == demoDeveloper {
				continue
			}
			chain = append(chain, pr)
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
		}
		if settled {
			return chain, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the promotion chain did not complete within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
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
	return nil
}

// explore prints commands that work against this run while it lasts: the
// PR list as the developer, merging a prod promotion PR, a change of one's
// own. They answer while the demo runs (--keep, or make run KEEP=1).
func explore(out io.Writer, o demoOptions, apiURL, developerToken string, prod int, addr string, origin int) {
	fmt.Fprintf(out, "\nExplore while it runs (%s):\n", map[bool]string{true: "it keeps running", false: "run with --keep, or make run KEEP=1, to keep it running"}[o.keep])
	fmt.Fprintf(out, "  %s status --url http://%s --repo %s --pr %d   # the change's journey (--path clusters/prod/us-1: what it runs)\n",
		o.self, addr, demoRepo, origin)
	fmt.Fprintf(out, "  curl -s -H 'Authorization: token %s' %srepos/%s/pulls | jq -r '.[] | \"#\\(.number) \\(.title)\"'\n",
		developerToken, apiURL, demoRepo)
	fmt.Fprintf(out, "  %s github-emulator merge --url %s --repo %s --as %s %d   # approve prod\n", o.self, apiURL, demoRepo, demoDeveloper, prod)
	fmt.Fprintf(out, "  %s github-emulator pr --url %s --repo %s --as %s --file workspace/redis/statefulset.yaml=FILE --merge\n",
		o.self, apiURL, demoRepo, demoDeveloper)
}

// demoLog creates the log file: in the data directory when one is given,
// else a temporary file that outlives the demo (its path is printed).
func demoLog(dataDir string) (*os.File, error) {
	if dataDir == "" {
		return os.CreateTemp("", "telefonistka-demo-*.log")
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dataDir, "telefonistka.log"))
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
