package emulator

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// DefaultListen is where the github-emulator command listens by default: a
// port other than Telefonistka's 8080, so both run on one machine.
const DefaultListen = "127.0.0.1:9000"

// Main runs the github-emulator command until ctx ends. args are the arguments after the
// command name. It returns the exit code: 0 on a clean stop, 1 on failure, 2 on usage errors.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if dev, ok := devCommands[args[0]]; ok {
			return dev(ctx, args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("github-emulator", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: telefonistka github-emulator [--listen 127.0.0.1:PORT] --repo OWNER/NAME=DIR [--repo ...]\n"+
			"       [--webhook-url URL --webhook-secret SECRET] [--token TOKEN[=LOGIN]] [--app ID=SLUG] [--data DIR]\n\n"+
			"       telefonistka github-emulator pr|merge --help   (act as a developer against a running emulator)\n\n"+
			"A GitHub emulator backed by git repositories, for tests, demos and load runs.\n\nFlags:")
		fs.PrintDefaults()
	}
	var repos, tokens, apps multiFlag
	listen := fs.String("listen", DefaultListen, "address to listen on (not Telefonistka's 8080, so both run side by side)")
	fs.Var(&repos, "repo", "repository to create as OWNER/NAME=DIR, with DIR's files on branch main (repeatable)")
	fs.Var(&tokens, "token", "accepted token, as TOKEN (login \"octocat\") or TOKEN=LOGIN (repeatable); without any, every request is accepted")
	fs.Var(&apps, "app", "GitHub App whose JWTs are accepted, as ID=SLUG (repeatable; default 1=telefonistka)")
	webhookURL := fs.String("webhook-url", "", "URL receiving webhook deliveries")
	webhookSecret := fs.String("webhook-secret", "", "secret signing webhook deliveries")
	dataDir := fs.String("data", "", "directory keeping repositories and state (default: in memory)")
	htmlURL := fs.String("html-url", "https://github.com", "web root used in html_url fields")
	rateLimit := fs.Int("rate-limit", 5000, "hourly request budget reported per identity")
	enforce := fs.Bool("enforce-rate-limit", false, "answer 403 once an identity's budget is spent")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "github-emulator: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *webhookSecret != "" && *webhookURL == "" {
		return usage("--webhook-secret needs --webhook-url")
	}
	opts := Options{Listen: *listen, WebhookURL: *webhookURL, WebhookSecret: *webhookSecret, DataDir: *dataDir,
		HTMLURL: *htmlURL, RateLimit: *rateLimit, EnforceRateLimit: *enforce,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if len(tokens) > 0 {
		opts.Tokens = map[string]string{}
	}
	for _, t := range tokens {
		tok, login, found := strings.Cut(t, "=")
		if !found {
			login = "octocat"
		}
		if tok == "" || login == "" {
			return usage("invalid --token %q: want TOKEN or TOKEN=LOGIN", t)
		}
		opts.Tokens[tok] = login
	}
	for _, a := range apps {
		id, slug, found := strings.Cut(a, "=")
		n, err := strconv.ParseInt(id, 10, 64)
		if !found || err != nil || n <= 0 || slug == "" {
			return usage("invalid --app %q: want ID=SLUG", a)
		}
		opts.Apps = append(opts.Apps, App{ID: n, Slug: slug})
	}
	type repoSpec struct{ owner, name, dir string }
	var specs []repoSpec
	for _, r := range repos {
		full, dir, found := strings.Cut(r, "=")
		owner, name, ok := strings.Cut(full, "/")
		if !found || !ok || !validName(owner) || !validName(name) || dir == "" {
			return usage("invalid --repo %q: want OWNER/NAME=DIR", r)
		}
		specs = append(specs, repoSpec{owner, name, dir})
	}

	e, err := New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "github-emulator: %v\n", err)
		return 1
	}
	for _, s := range specs {
		if _, exists := e.repo(s.owner, s.name); exists {
			fmt.Fprintf(stdout, "keeping %s/%s from %s\n", s.owner, s.name, *dataDir)
			continue
		}
		if err := e.CreateRepoFromDir(s.owner, s.name, s.dir); err != nil {
			fmt.Fprintf(stderr, "github-emulator: %v\n", err)
			_ = e.Close()
			return 1
		}
	}
	if err := e.Start(); err != nil {
		fmt.Fprintf(stderr, "github-emulator: %v\n", err)
		_ = e.Close()
		return 1
	}
	fmt.Fprintf(stdout, "github-emulator listening: REST %s GraphQL %s controls %s/_emulator/\n", e.URL(), e.GraphQLURL(), e.rootURL)
	<-ctx.Done()
	if err := e.Close(); err != nil {
		fmt.Fprintf(stderr, "github-emulator: stopping: %v\n", err)
		return 1
	}
	return 0
}

// parseArgs parses args into fs: help goes to stdout (exit 0), a usage
// error to stderr (exit 2); ok tells whether the command goes on.
func parseArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	var parsed bytes.Buffer
	fs.SetOutput(&parsed)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(parsed.Bytes())
		return 0, false
	}
	if err != nil {
		_, _ = stderr.Write(parsed.Bytes())
		return 2, false
	}
	return 0, true
}
