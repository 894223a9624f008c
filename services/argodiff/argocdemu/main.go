package argocdemu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// DefaultListen is where the standalone server listens by default (not
// Telefonistka's 8080 nor the GitHub emulator's 9000).
const DefaultListen = "127.0.0.1:9080"

// Main runs the server standalone until ctx ends (telefonistka
// argocd-emulator); it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("argocd-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: telefonistka argocd-emulator [--listen 127.0.0.1:PORT] [--fixture FILE] [--token TOKEN]\n"+
			"       [--github-url URL --github-token TOKEN]\n\n"+
			"A test Argo CD API server (gRPC, plaintext) for tests and demos: applications, ApplicationSets,\n"+
			"settings and projects from a YAML fixture; manifests the fixture lacks are read from a GitHub\n"+
			"repository (e.g. the GitHub emulator). Controls: GET /_argocd/counters, PUT /_argocd/latency,\n"+
			"POST /_argocd/faults, GET /_argocd/applications. Point Telefonistka at it with\n"+
			"ARGOCD_SERVER_ADDR=<listen> ARGOCD_PLAINTEXT=true ARGOCD_TOKEN=<token>.\n\nFlags:")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", DefaultListen, "address to listen on")
	fixture := fs.String("fixture", "", "YAML fixture (settings, projects, applications, applicationSets, resources, manifests)")
	token := fs.String("token", "", "the only token accepted (default: any)")
	githubURL := fs.String("github-url", "", "GitHub REST base URL to render manifests from, e.g. http://127.0.0.1:9000/api/v3/")
	githubToken := fs.String("github-token", "", "token for --github-url")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout) // asked for: the usage is the output
			fs.Usage()
			return 0
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "argocd-emulator: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	var f *Fixture
	if *fixture != "" {
		var err error
		if f, err = LoadFixture(*fixture); err != nil {
			fmt.Fprintln(stderr, "argocd-emulator:", err)
			return 1
		}
	}
	opts := Options{Token: *token, Log: slog.New(slog.NewTextHandler(stderr, nil))}
	if *githubURL != "" {
		src, err := NewGitHubSource(*githubURL, *githubToken)
		if err != nil {
			fmt.Fprintln(stderr, "argocd-emulator:", err)
			return 1
		}
		opts.Source = src
	}
	s := New(f, opts)
	if err := s.Start(*listen); err != nil {
		fmt.Fprintln(stderr, "argocd-emulator:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Argo CD API (test server) listening on %s\n", s.Addr())
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fmt.Fprintln(stderr, "argocd-emulator:", err)
		return 1
	}
	return 0
}
