package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
)

// demoArgoCD is the demo's Argo CD: the test server with the demo's
// applications, reading manifests from the emulator's repository.
type demoArgoCD struct {
	*argocdemu.Server
	src argocdemu.GitHubSource
}

// startArgoCD starts the test Argo CD server seeded from fixture, syncs its
// applications and points the argodiff service at it.
func startArgoCD(ctx context.Context, fixture string, emu *emulator.Emulator, githubToken string, log io.Writer) (*demoArgoCD, error) {
	f, err := argocdemu.LoadFixture(fixture)
	if err != nil {
		return nil, err
	}
	src, err := argocdemu.NewGitHubSource(emu.URL(), githubToken)
	if err != nil {
		return nil, err
	}
	token := randomHex()
	argo := &demoArgoCD{Server: argocdemu.New(f, argocdemu.Options{Token: token, Source: src, Log: slog.New(slog.NewTextHandler(log, nil))}), src: src}
	if err := argo.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	if err := argo.sync(ctx); err != nil {
		_ = argo.Close()
		return nil, err
	}
	for k, v := range map[string]string{"ARGOCD_SERVER_ADDR": argo.Addr(), "ARGOCD_PLAINTEXT": "true", "ARGOCD_TOKEN": token} {
		if err := os.Setenv(k, v); err != nil {
			_ = argo.Close()
			return nil, err
		}
	}
	return argo, nil
}

// sync makes every application run what its path holds on the default
// branch now. The demo syncs when a chain has come to rest, so a diff
// never depends on whether a merge happened before or after it was
// computed (an auto-merged PR is diffed against what ran before it).
func (a *demoArgoCD) sync(ctx context.Context) error {
	for _, app := range a.Apps() {
		src := app.Spec.GetSource()
		objs, err := a.src.Render(ctx, src.RepoURL, "HEAD", src.Path, src.Directory != nil && src.Directory.Recurse)
		if err != nil {
			return fmt.Errorf("syncing Argo CD application %s: %w", app.Name, err)
		}
		a.SetLive(app.Name, objs)
	}
	return nil
}

// showArgoDiff prints argodiff's comment on a promotion PR, as text: the
// application of each component and the diff of its objects.
func showArgoDiff(emu *emulator.Emulator, out io.Writer, pr int, what string) error {
	body, err := argoComment(emu, pr, "Diff of ArgoCD applications")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nargodiff's comment on #%d (%s): what merging it changes in Argo CD\n", pr, what)
	for _, l := range plainComment(body) {
		fmt.Fprintf(out, "    %s\n", l)
	}
	return nil
}

// argoComment is the first bot comment on pr containing text.
func argoComment(emu *emulator.Emulator, pr int, text string) (string, error) {
	comments, err := emu.Comments(demoRepo, pr)
	if err != nil {
		return "", err
	}
	for _, c := range comments {
		if c.Author == demoBot && strings.Contains(c.Body, text) {
			return c.Body, nil
		}
	}
	return "", fmt.Errorf("no comment of argodiff on #%d says %q", pr, text)
}

var (
	mdLink  = regexp.MustCompile(`\*\*\[([^\]]+)\]\([^)]*\)\*\*`)
	htmlTag = regexp.MustCompile(`<[^>]+>`)
)

// plainComment turns a comment into the lines a terminal shows: no HTML,
// markers, fences or blank lines; links become their text.
func plainComment(body string) []string {
	var lines []string
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimRight(mdLink.ReplaceAllString(l, "$1"), " ")
		if strings.HasPrefix(l, "<") { // the Argo CD logo
			l = strings.TrimLeft(htmlTag.ReplaceAllString(l, ""), " ")
		}
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "```") || strings.HasPrefix(t, "ArgoCD Diff(") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// noDiffChange plays a developer who changes only a comment of staging's
// redis: the promotion to prod has an empty Argo CD diff, so argodiff
// labels it noop and merges it (autoMergeNoDiffPRs) with a comment saying
// why. It prints the PRs as they open and merge, then argodiff's comment.
func noDiffChange(ctx context.Context, js jetstream.JetStream, emu *emulator.Emulator, argo *demoArgoCD, out io.Writer, timeout time.Duration) error {
	const path = "clusters/staging/c1/redis/statefulset.yaml"
	old, err := emu.ReadFile(demoRepo, "main", path)
	if err != nil {
		return err
	}
	updated := "# redis: the cache of the sample application\n" + old
	if _, err := emu.Push(demoRepo, "redis-comment", demoDeveloper, "Describe redis", map[string]*string{path: &updated}); err != nil {
		return err
	}
	before, err := emu.PullRequests(demoRepo)
	if err != nil {
		return err
	}
	pr, err := emu.OpenPullRequest(demoRepo, emulator.PullRequestSpec{Author: demoDeveloper, Title: "Describe redis", Head: "redis-comment"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s opens PR #%d \"Describe redis\" adding a comment to %s (no object changes)\n", demoDeveloper, pr, path)
	if _, err := emu.MergePullRequest(demoRepo, pr, demoDeveloper); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s merges PR #%d\n", demoDeveloper, pr)
	prs, err := watchChain(ctx, js, emu, out, pr, len(before)+1, timeout)
	if err != nil {
		return err
	}
	if err := argo.sync(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe Argo CD diff of the prod promotion is empty: argodiff labelled it noop and merged it without review:")
	for _, p := range prs {
		fmt.Fprintf(out, "  #%d %-6s [%s] %s\n", p.Number, map[bool]string{true: "merged", false: "open"}[p.Merged], strings.Join(p.Labels, ", "), p.Title)
		body, err := argoComment(emu, p.Number, "Merging this promotion PR automatically")
		if err != nil {
			return err
		}
		for _, l := range plainComment(body) {
			fmt.Fprintf(out, "      %s\n", l)
		}
	}
	return nil
}

// prodPR is the open promotion PR of the chain to prod cluster ("eu-1").
func prodPR(chain []emulator.PullRequest, cluster string) int {
	for _, pr := range chain {
		if pr.State == "open" && strings.Contains(pr.Title, "prod "+cluster) {
			return pr.Number
		}
	}
	return 0
}
