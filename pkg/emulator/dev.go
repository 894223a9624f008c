package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// devCommands act as a developer against a running emulator, through its
// /_emulator/ controls: `telefonistka github-emulator pr` and `... merge`.
var devCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"pr":    prCommand,
	"merge": mergeCommand,
}

// devFlags are the flags both developer commands take.
type devFlags struct {
	url, repo, as string
}

func (d *devFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.url, "url", "http://"+DefaultListen, "the emulator's address (as printed when it starts, or by the demo)")
	fs.StringVar(&d.repo, "repo", "", "the repository, OWNER/NAME")
	fs.StringVar(&d.as, "as", "", "the developer's login (default: the emulator's default login, octocat)")
}

func (d *devFlags) control(path string) string {
	root := strings.TrimSuffix(strings.TrimSuffix(d.url, "/"), "/api/v3")
	return root + "/_emulator/repos/" + d.repo + path
}

func devFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("github-emulator "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: telefonistka github-emulator %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

func prCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := devFlagSet("pr", "--repo OWNER/NAME --file PATH=LOCAL_FILE... [--merge]",
		"Acts as a developer: pushes the change to a branch, opens a PR and, with --merge, merges\n"+
			"it, sending the webhooks GitHub sends (a running Telefonistka then promotes the change).")
	var d devFlags
	d.register(fs)
	var files, deletes, labels multiFlag
	fs.Var(&files, "file", "set PATH in the repository to the content of LOCAL_FILE, as PATH=LOCAL_FILE (repeatable)")
	fs.Var(&deletes, "delete", "delete PATH from the repository (repeatable)")
	fs.Var(&labels, "label", "a label of the PR (repeatable)")
	branch := fs.String("branch", "", "the PR's branch (default change-<random>)")
	title := fs.String("title", "", "the PR's title (default \"Change <paths>\")")
	merge := fs.Bool("merge", false, "merge the PR right away")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if d.repo == "" || (len(files) == 0 && len(deletes) == 0) || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "github-emulator pr: give --repo and at least one --file or --delete")
		fs.Usage()
		return 2
	}
	req := ChangeRequest{Author: d.as, Branch: *branch, Title: *title, Delete: deletes, Labels: labels, Merge: *merge, Files: map[string]string{}}
	for _, f := range files {
		path, local, ok := strings.Cut(f, "=")
		if !ok || path == "" || local == "" {
			fmt.Fprintf(stderr, "github-emulator pr: --file %q is not PATH=LOCAL_FILE\n", f)
			return 2
		}
		data, err := os.ReadFile(local)
		if err != nil {
			fmt.Fprintln(stderr, "github-emulator pr:", err)
			return 1
		}
		req.Files[path] = string(data)
	}
	var res ChangeResult
	if err := callControl(ctx, http.MethodPost, d.control("/pulls"), req, &res); err != nil {
		fmt.Fprintln(stderr, "github-emulator pr:", err)
		return 1
	}
	fmt.Fprintf(stdout, "opened #%d %s\n", res.Number, res.HTMLURL)
	if res.Merged {
		fmt.Fprintf(stdout, "merged #%d (merge commit %s)\n", res.Number, res.MergeCommitSHA)
	}
	return 0
}

func mergeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := devFlagSet("merge", "--repo OWNER/NAME NUMBER",
		"Acts as a developer (or reviewer): merges PR NUMBER, sending the webhooks GitHub sends.")
	var d devFlags
	d.register(fs)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if d.repo == "" || fs.NArg() != 1 || err != nil || n <= 0 {
		fmt.Fprintln(stderr, "github-emulator merge: give --repo and one PR number")
		fs.Usage()
		return 2
	}
	var res struct {
		SHA string `json:"sha"`
	}
	if err := callControl(ctx, http.MethodPut, d.control("/pulls/"+strconv.Itoa(n)+"/merge"), map[string]string{"author": d.as}, &res); err != nil {
		fmt.Fprintln(stderr, "github-emulator merge:", err)
		return 1
	}
	fmt.Fprintf(stdout, "merged #%d (merge commit %s)\n", n, res.SHA)
	return 0
}

// callControl sends in as JSON and decodes a 2xx answer into out; any
// other answer is an error carrying the emulator's message.
func callControl(ctx context.Context, method, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var msg struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &msg) != nil || msg.Message == "" {
			msg.Message = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, msg.Message)
	}
	return json.Unmarshal(data, out)
}
