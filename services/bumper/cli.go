package bumper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/pkg/githubapi"
	"github.com/telefonistka/telefonistka/pkg/obs"
	"github.com/telefonistka/telefonistka/services/bumper/internal/bump"
)

// Commands are the bump commands CLI runs, with the mode each one uses.
var Commands = map[string]string{
	"bump-overwrite": events.BumpOverwrite,
	"bump-regex":     events.BumpRegex,
	"bump-yaml":      events.BumpYAML,
}

// Exit codes of CLI (SPEC §4.1).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// CLI runs the bump command command ("bump-overwrite", "bump-regex" or
// "bump-yaml") with args, the arguments after the command name. It prints
// the PR URL (or the no-change message) to stdout and logs, the
// Before/After diff and errors to stderr. It returns the exit code: 0 on
// success (unchanged content and an already open PR included), 1 when a
// step fails (the message names it), 2 on usage errors.
//
// GitHub is reached as the main identity (GITHUB_OAUTH_TOKEN, or
// GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_PATH through the installation on
// the target repository's owner), at --github-host if given, else at
// GITHUB_URL or GITHUB_HOST.
func CLI(ctx context.Context, command string, args []string, stdout, stderr io.Writer) int {
	mode, ok := Commands[command]
	if !ok {
		fmt.Fprintf(stderr, "telefonistka: unknown bump command %q\n", command)
		return ExitUsage
	}
	p, err := parseCLI(command, mode, args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, p.usage())
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka %s: %v\nRun 'telefonistka %s --help' for usage.\n", command, err, command)
		return ExitUsage
	}
	if mode == events.BumpOverwrite {
		content, err := os.ReadFile(p.file)
		if err != nil {
			fmt.Fprintf(stderr, "telefonistka %s: reading --file: %v\n", command, err)
			return ExitFailure
		}
		p.req.Content = string(content)
	}
	target, req, err := prepare(&p.req)
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka %s: %v\nRun 'telefonistka %s --help' for usage.\n", command, err, command)
		return ExitUsage
	}
	log, err := cliLogger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka %s: %v\n", command, err)
		return ExitFailure
	}
	log = log.With("command", command, "repo", target.String(), "file", req.File)
	gh, err := connect(ctx, target, p.host)
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka %s: authenticating: %v\n", command, err)
		return ExitFailure
	}
	runner := &bump.Runner{Log: log, Diff: stderr}
	res, err := runner.Run(ctx, gh, req)
	switch {
	case res != nil && res.Unchanged:
		fmt.Fprintln(stdout, bump.NoChangeMessage(req.File))
	case res != nil && res.PR != nil:
		fmt.Fprintln(stdout, res.PR.URL)
	}
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka %s: %v\n", command, err)
		return ExitFailure
	}
	return ExitOK
}

// connect builds the GitHub operations on target from the environment,
// with host (--github-host) winning over GITHUB_URL and GITHUB_HOST.
func connect(ctx context.Context, target events.Repo, host string) (bump.GitHub, error) {
	cfg, err := githubConfig(host)
	if err != nil {
		return nil, err
	}
	f, err := githubapi.NewFactory(cfg, githubapi.Options{})
	if err != nil {
		return nil, err
	}
	// Authenticate now, so credentials that do not work are reported as such.
	if _, err := f.ForOwner(ctx, target.Owner); err != nil {
		return nil, err
	}
	return githubapi.NewGitHub(f, nil), nil
}

// githubConfig is the GitHub configuration of the environment, with host
// (--github-host) replacing GITHUB_URL and GITHUB_HOST when set.
func githubConfig(host string) (githubapi.Config, error) {
	cfg, err := githubapi.LoadConfig()
	if err != nil {
		return cfg, err
	}
	if host != "" {
		cfg.Host, cfg.URL = host, ""
		if err := cfg.Validate(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// cliLogger logs as LOG_LEVEL and LOG_FORMAT say, in text by default.
func cliLogger(w io.Writer) (*slog.Logger, error) {
	cfg := obs.LogConfig{Level: os.Getenv("LOG_LEVEL"), Format: os.Getenv("LOG_FORMAT")}
	if cfg.Format == "" {
		cfg.Format = "text"
	}
	return obs.NewLogger(cfg, w)
}

// parsedCLI is a parsed command line.
type parsedCLI struct {
	command string
	flags   []cliFlag
	req     events.BumpRequested
	// file is --file (bump-overwrite), host is --github-host.
	file, host string
}

// cliFlag describes one flag for the usage text.
type cliFlag struct {
	long, short, arg, usage string
}

// parseCLI parses args; getenv gives the environment defaults. The
// returned parsedCLI can print the usage even when err is set.
func parseCLI(command, mode string, args []string, getenv func(string) string) (*parsedCLI, error) {
	p := &parsedCLI{command: command, req: events.BumpRequested{Mode: mode}}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	short := map[string]string{}
	str := func(dst *string, long, s, env, arg, usage string) {
		def := ""
		if env != "" {
			def = getenv(env)
			usage += " (default $" + env + ")"
		}
		fs.StringVar(dst, long, def, usage)
		if s != "" {
			fs.StringVar(dst, s, def, usage)
			short[s] = long
		}
		p.flags = append(p.flags, cliFlag{long: long, short: s, arg: arg, usage: usage})
	}
	r := &p.req
	str(&r.TargetRepo, "target-repo", "t", "TARGET_REPO", "owner/repo", "The GitOps repo")
	str(&r.TargetFile, "target-file", "f", "TARGET_FILE", "path", "The file to bump, from the repo root")
	str(&p.host, "github-host", "g", "", "host", "GitHub Enterprise host, for all calls (default $GITHUB_URL or $GITHUB_HOST)")
	str(&r.TriggeringRepo, "triggering-repo", "p", "GITHUB_REPOSITORY", "owner/repo", "The code repo that triggered the bump")
	str(&r.TriggeringSHA, "triggering-repo-sha", "s", "GITHUB_SHA", "sha", "Its commit SHA, or a tag (any name safe in a branch name)")
	str(&r.TriggeringActor, "triggering-actor", "a", "GITHUB_ACTOR", "login", "The PR assignee")
	fs.BoolVar(&r.AutoMerge, "auto-merge", false, "Merge the PR right after opening it")
	p.flags = append(p.flags, cliFlag{long: "auto-merge", usage: "Merge the PR right after opening it"})
	switch mode {
	case events.BumpOverwrite:
		str(&p.file, "file", "c", "", "path", "The local file whose content replaces the target file")
	case events.BumpRegex:
		str(&r.Regex, "regex-string", "r", "", "regex", "A Go regex; every match is replaced")
		str(&r.Replacement, "replacement-string", "n", "", "text", "The replacement; $1 or ${1} stand for submatches")
	case events.BumpYAML:
		str(&r.Address, "address", "", "", "expr", `A yq path expression, e.g. '.db.[] | select(.name == "postgres").image.tag'`)
		str(&r.Replacement, "replacement-string", "n", "", "value", "The value, set as a YAML string")
	}
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	if fs.NArg() > 0 {
		return p, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		if long, ok := short[f.Name]; ok {
			given[long] = true
		} else {
			given[f.Name] = true
		}
	})
	var missing []string
	need := func(long string, ok bool) {
		if !ok {
			missing = append(missing, "--"+long)
		}
	}
	need("target-repo", r.TargetRepo != "")
	need("target-file", r.TargetFile != "")
	need("triggering-repo", r.TriggeringRepo != "")
	need("triggering-repo-sha", r.TriggeringSHA != "")
	switch mode {
	case events.BumpOverwrite:
		need("file", p.file != "")
	case events.BumpRegex:
		need("regex-string", r.Regex != "")
		need("replacement-string", given["replacement-string"])
	case events.BumpYAML:
		need("address", r.Address != "")
		need("replacement-string", given["replacement-string"])
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return p, nil
}

// usage is the help text of the command.
func (p *parsedCLI) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: telefonistka %s [flags]\n\n%s\n\nFlags:\n", p.command, commandHelp[p.command])
	names := make([]string, len(p.flags))
	width := 0
	for i, f := range p.flags {
		n := "    --" + f.long
		if f.short != "" {
			n = "-" + f.short + ", --" + f.long
		}
		if f.arg != "" {
			n += " " + f.arg
		}
		names[i] = n
		width = max(width, len(n))
	}
	for i, f := range p.flags {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, names[i], f.usage)
	}
	return b.String()
}

var commandHelp = map[string]string{
	"bump-overwrite": "Opens a PR on the target repo's default branch that replaces the target file\nwith the content of a local file (creating it if absent).",
	"bump-regex":     "Opens a PR on the target repo's default branch that replaces every match of a\nregex in the target file.",
	"bump-yaml":      "Opens a PR on the target repo's default branch that sets the YAML nodes an\naddress selects to a value, creating missing keys and keeping comments,\norder and quoting.",
}
