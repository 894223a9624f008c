// Command telefonistka runs every Telefonistka service in one process
// (`server`), one service (`serve NAME`), the GitHub emulator, and the
// command-line tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/telefonistka/telefonistka/pkg/emulator"
	"github.com/telefonistka/telefonistka/pkg/plan/cli"
	"github.com/telefonistka/telefonistka/services/argodiff/argocdemu"
	"github.com/telefonistka/telefonistka/services/bumper"
	"github.com/telefonistka/telefonistka/services/tracker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one sub-command. run returns the exit code: 0 success, 1
// failure, 2 usage error.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	hidden  bool
}

func commands() map[string]command {
	return map[string]command{
		"bump-overwrite":  {summary: "open a PR replacing a file of the GitOps repo with a local file", run: bumpCommand("bump-overwrite")},
		"bump-regex":      {summary: "open a PR replacing every match of a regex in a file of the GitOps repo", run: bumpCommand("bump-regex")},
		"bump-yaml":       {summary: "open a PR setting a yq path of a YAML file of the GitOps repo", run: bumpCommand("bump-yaml")},
		"server":          {summary: "run every service in one process (embedded NATS unless NATS_URL is set)", run: runServer},
		"serve":           {summary: "run one service: serve " + strings.Join(serviceNames(), "|"), run: runServe},
		"version":         {summary: "print the version", run: runVersion},
		"plan":            {summary: "print the promotion plan a merge of the given changed files would make (local checkout)", run: cli.Plan},
		"validate":        {summary: "lint telefonistka.yaml and every component telefonistka.yaml of a checkout", run: cli.Validate},
		"github-emulator": {summary: "the GitHub emulator backed by git repositories (tests, demos, load runs)", run: emulator.Main},
		"argocd-emulator": {summary: "a test Argo CD API server (applications, ApplicationSets, settings, projects) for tests and demos", run: argocdemu.Main},
		"event":           {summary: "handle one event file synchronously (GitHub Actions): event -t TYPE -f FILE", run: runEvent},
		"demo":            {summary: "run everything against the GitHub emulator with a sample repository and promote a change", run: runDemo},
		"loadgen":         {summary: "send signed webhooks to a running ingress at a fixed rate and report latency", run: runLoadgen},
		"status":          {summary: "where a change is (--pr N) or what each target runs (--path DIR), from the tracker", run: tracker.StatusCLI},
	}
}

// bumpCommand runs one of the bump-* commands of the bumper service.
func bumpCommand(name string) func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return bumper.CLI(ctx, name, args, stdout, stderr)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 { // a usage error
		usage(stderr, cmds)
		return 2
	}
	if len(args) == 2 && args[0] == "help" { // help <command>
		args = []string{args[len(args)-1], "--help"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "telefonistka: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "Usage: telefonistka <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(cmds))
	for n, c := range cmds {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\n`telefonistka <command> --help` (or `telefonistka help <command>`) describes a command.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "Prints the version.")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	fmt.Fprintln(stdout, "telefonistka", version)
	return 0
}
