package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/render"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// URLEnv names the tracker's address for `telefonistka status`.
const URLEnv = "TELEFONISTKA_TRACKER_URL"

const statusUsage = `Usage: telefonistka status --repo OWNER/NAME [--pr N | --path TARGET] [--json] [--url URL]

Shows what the tracker knows, from its API:
  without --pr or --path  the repository's recent changes and how far each got
  --pr N                  the journey of the change whose original PR is N:
                          every stage, target, promotion PR and state
  --path TARGET           what each component of a target directory runs
                          (the promotion PR merged last) and what waits in an
                          open promotion PR; TARGET may name one component
                          (clusters/prod/eu-1/nginx)
The exit code is 0, 1 when the tracker cannot be reached or knows no such
change, 2 on usage errors.

Flags:
`

type statusFlags struct {
	repo    string
	pr      int
	path    string
	json    bool
	url     string
	timeout time.Duration
}

// StatusCLI is `telefonistka status` (args after the command name).
func StatusCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, fs, err := parseStatus(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, statusUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka status: %v\nRun 'telefonistka status --help' for usage.\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if err := status(ctx, f, stdout); err != nil {
		fmt.Fprintf(stderr, "telefonistka status: %v\n", err)
		return 1
	}
	return 0
}

func parseStatus(args []string, getenv func(string) string) (statusFlags, *flag.FlagSet, error) {
	var f statusFlags
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.repo, "repo", "", "the repository, OWNER/NAME (required)")
	fs.IntVar(&f.pr, "pr", 0, "the original PR of a change: show its journey")
	fs.StringVar(&f.path, "path", "", "a target directory (or target/component): show what it runs and what waits")
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of text")
	def := getenv(URLEnv)
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	fs.StringVar(&f.url, "url", def, "the address Telefonistka (the tracker) serves on ($"+URLEnv+")")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "how long to wait for the tracker")
	if err := fs.Parse(args); err != nil {
		return f, fs, err
	}
	switch {
	case fs.NArg() > 0:
		return f, fs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case f.repo == "":
		return f, fs, errors.New("--repo OWNER/NAME is required")
	case f.pr < 0:
		return f, fs, errors.New("--pr must be a PR number")
	case f.pr != 0 && f.path != "":
		return f, fs, errors.New("--pr and --path cannot be combined")
	case f.timeout <= 0:
		return f, fs, errors.New("--timeout must be positive")
	}
	if _, err := events.ParseRepo(f.repo); err != nil {
		return f, fs, err
	}
	if u, err := url.Parse(f.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return f, fs, fmt.Errorf("--url %q is not an http(s) address", f.url)
	}
	return f, fs, nil
}

// status asks the tracker's API and prints the answer.
func status(ctx context.Context, f statusFlags, w io.Writer) error {
	repo, _ := events.ParseRepo(f.repo)
	api := strings.TrimRight(f.url, "/") + BasePath + "/api/v1/repos/" + url.PathEscape(repo.Owner) + "/" + url.PathEscape(repo.Name)
	switch {
	case f.pr != 0:
		var j view.Journey
		raw, err := getAPI(ctx, api+"/changes/"+strconv.Itoa(f.pr), &j)
		if err != nil || f.json {
			return printRaw(w, raw, err)
		}
		return render.JourneyText(w, j)
	case f.path != "":
		var env view.Environments
		raw, err := getAPI(ctx, api+"/environments?path="+url.QueryEscape(f.path), &env)
		if err != nil || f.json {
			return printRaw(w, raw, err)
		}
		return render.EnvironmentsText(w, env, f.path)
	}
	var recent []view.Journey
	raw, err := getAPI(ctx, api+"/changes", &recent)
	if err != nil || f.json {
		return printRaw(w, raw, err)
	}
	return render.RecentText(w, repo.String(), recent)
}

func printRaw(w io.Writer, raw []byte, err error) error {
	if err != nil {
		return err
	}
	_, err = w.Write(raw)
	return err
}

// getAPI reads one API answer into v and returns it as it came.
func getAPI(ctx context.Context, u string, v any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the tracker (is the tracker service running there? --url or $%s): %w", URLEnv, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the tracker's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("the tracker answered %s for %s (is the tracker service running at --url?)", resp.Status, u)
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return nil, fmt.Errorf("decoding the tracker's answer: %w", err)
	}
	return body, nil
}
