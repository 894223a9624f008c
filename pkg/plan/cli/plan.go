package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
	"github.com/telefonistka/telefonistka/pkg/plan"
	"github.com/telefonistka/telefonistka/pkg/plan/comments"
	"github.com/telefonistka/telefonistka/pkg/plan/prtext"
	"github.com/telefonistka/telefonistka/pkg/plan/treesync"
)

const planUsage = `Usage:
  telefonistka plan --repo DIR --files PATH [--files PATH ...] [--labels L1,L2] [--json] [--show-changes]
  telefonistka plan --repo DIR --range BASE..HEAD [--labels L1,L2] [--json] [--show-changes]

Prints the promotion plan the bot would make if a PR with these changed files
and labels were merged. Configuration is read from DIR's working tree, or at
HEAD with --range (whose changed files are those between the merge base of
BASE and HEAD, and HEAD, renames under both names).

Flags:
`

type planOptions struct {
	repo        string
	files       listFlag
	rangeSpec   string
	labels      listFlag
	json        bool
	showChanges bool
}

// Plan runs `telefonistka plan` with args (without the command name). It
// returns the exit code: 0 (also for an empty plan), 1 on configuration
// errors or failures, 2 on usage errors.
func Plan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o planOptions
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.StringVar(&o.repo, "repo", ".", "the checkout `DIR`")
	fs.Var(&o.files, "files", "a changed `PATH` (repeatable, or comma-separated)")
	fs.StringVar(&o.rangeSpec, "range", "", "take the changed files from git: `BASE..HEAD`")
	fs.Var(&o.labels, "labels", "the labels the PR carries (comma-separated)")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.BoolVar(&o.showChanges, "show-changes", false, "list the files each sync pair adds, changes or deletes")
	fs.Usage = func() { fmt.Fprint(stderr, planUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if (len(o.files) == 0) == (o.rangeSpec == "") {
		fmt.Fprintln(stderr, "give either --files or --range")
		fs.Usage()
		return exitUsage
	}
	code, err := runPlan(ctx, o, stdout, stderr)
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(stderr, u.msg)
			return exitUsage
		}
		fmt.Fprintf(stderr, "telefonistka plan: %v\n", err)
		return exitFindings
	}
	return code
}

func runPlan(ctx context.Context, o planOptions, stdout, stderr io.Writer) (int, error) {
	files := []string(o.files)
	var src source
	var err error
	if o.rangeSpec != "" {
		files, src, err = openRange(ctx, o.repo, o.rangeSpec)
	} else {
		src, err = openWorktree(o.repo)
	}
	if err != nil {
		return 0, err
	}
	defer func() { _ = src.Close() }() // read-only: nothing to flush, a close error changes no result

	data, err := readOptional(src, config.RepoFileName)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", config.RepoFileName, err)
	}
	cfg, findings := config.ParseRepoConfig(config.RepoFileName, data)
	if config.HasErrors(findings) {
		printFindings(stderr, findings)
		return exitFindings, nil
	}
	lookup := &componentReader{src: src}
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: files, Labels: o.labels, Components: lookup})
	results, err := evaluate(ctx, src, p)
	if err != nil {
		return 0, err
	}
	if o.json {
		err = writeJSON(stdout, results, o.showChanges)
	} else {
		err = writeText(stdout, results, o.showChanges)
	}
	if err != nil {
		return 0, err
	}
	code := exitOK
	for _, ce := range p.ComponentErrors {
		var cfgErr *config.Error
		if errors.As(ce.Err, &cfgErr) {
			printFindings(stderr, cfgErr.Findings)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", ce.ComponentPath, ce.Err)
		}
		code = exitFindings
	}
	for _, f := range p.IgnoredFiles {
		fmt.Fprintf(stderr, "ignored changed file %q: not a path inside the repository\n", f)
	}
	return code, nil
}

func readOptional(src source, name string) ([]byte, error) {
	data, err := src.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// componentReader reads component files from the source.
type componentReader struct{ src source }

func (c *componentReader) ComponentConfig(componentPath string) (*config.ComponentConfig, error) {
	name := componentPath + "/" + config.RepoFileName
	data, err := readOptional(c.src, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return config.LoadComponentConfig(name, data)
}

// result is a plan entry with what its trees say.
type result struct {
	planned comments.Planned
	changes []treesync.PairChanges
}

// evaluate reads the trees under the entries' directories once and decides,
// per entry, whether it is already in sync and which duplicates differ. The
// base and the source are the same tree: after the merge, the default
// branch head is the merge commit.
func evaluate(ctx context.Context, src source, p *plan.Plan) ([]result, error) {
	dirSet := map[string]bool{}
	for _, e := range p.Entries {
		for _, s := range e.Sync {
			dirSet[s.Source()], dirSet[s.Target()] = true, true
		}
		for _, d := range e.Duplicates {
			dirSet[d.Loser.Source()] = true
		}
	}
	dirs := make([]string, 0, len(dirSet))
	for d := range dirSet {
		dirs = append(dirs, cleanDir(d))
	}
	tree, err := src.Tree(ctx, dirs)
	if err != nil {
		return nil, err
	}
	ix := treesync.NewIndex(tree)
	out := make([]result, 0, len(p.Entries))
	for i := range p.Entries {
		e := &p.Entries[i]
		pairs := make([]treesync.Pair, len(e.Sync))
		for j, s := range e.Sync {
			pairs[j] = treesync.Pair{Source: s.Source(), Target: s.Target()}
		}
		r := treesync.Compute(ix, ix, pairs)
		title, _ := prtext.Title(e.ComponentNames(), e.TargetDescription)
		pl := comments.Planned{Entry: e, AlreadyInSync: r.InSync, Title: title}
		for _, d := range e.Duplicates {
			if !ix.SameContent(d.Winner.Source(), d.Loser.Source()) {
				pl.DifferingDuplicates = append(pl.DifferingDuplicates, d)
			}
		}
		out = append(out, result{planned: pl, changes: r.Pairs})
	}
	return out, nil
}

func printFindings(w io.Writer, findings []config.Finding) {
	for _, f := range findings {
		fmt.Fprintln(w, f.String())
	}
}

func trimSlash(p string) string { return strings.TrimSuffix(p, "/") }
