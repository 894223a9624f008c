package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
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
	fs.Usage = func() { fmt.Fprint(fs.Output(), planUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
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
	} else if files, err = normalizeFiles(o.repo, files); err == nil {
		src, err = openWorktree(o.repo)
	}
	if err != nil {
		return 0, err
	}
	defer func() { _ = src.Close() }() // read-only: nothing to flush, a close error changes no result

	data, found, err := readOptional(src, config.RepoFileName)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", config.RepoFileName, err)
	}
	cfg, findings := config.ParseRepoConfig(config.RepoFileName, data)
	if !found {
		findings = append(findings, config.MissingRepoFile())
	}
	if config.HasErrors(findings) {
		printFindings(stderr, findings)
		return exitFindings, nil
	}
	lookup := &componentReader{src: src}
	p := plan.Compute(plan.Input{Config: cfg, ChangedFiles: files, Labels: o.labels, Components: lookup})
	// Warnings change what is promoted as much as errors do (a misspelled
	// key is ignored): show them, as validate would.
	findings = append(findings, lookup.warnings...)
	config.SortFindings(findings)
	printFindings(stderr, findings)
	results, err := evaluate(ctx, src, p)
	if err != nil {
		return 0, err
	}
	header := planHeader{dryRunMode: cfg.DryRunMode}
	if o.json {
		err = writeJSON(stdout, header, results, o.showChanges)
	} else {
		err = writeText(stdout, header, results, o.showChanges)
	}
	if err != nil {
		return 0, err
	}
	code := exitOK
	for _, ce := range p.ComponentErrors {
		var cfgErr *config.Error
		if errors.As(ce.Err, &cfgErr) {
			printFindings(stderr, config.Errors(cfgErr.Findings))
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

// normalizeFiles turns --files values into repository paths: "./a/b" and
// "a//b" become "a/b", an absolute path inside repoDir becomes relative to
// it. A path that still does not name a file inside the repository is a
// usage error, not a silently ignored file.
func normalizeFiles(repoDir string, files []string) ([]string, error) {
	out := make([]string, 0, len(files))
	for _, f := range files {
		p := f
		if filepath.IsAbs(p) {
			root, err := filepath.Abs(repoDir)
			if err != nil {
				return nil, err
			}
			if p, err = filepath.Rel(root, p); err != nil {
				return nil, usageError{fmt.Sprintf("--files %q is not inside the repository %s", f, repoDir)}
			}
		}
		p = path.Clean(filepath.ToSlash(p))
		if !config.SafeRepoPath(p) {
			return nil, usageError{fmt.Sprintf("--files %q is not a path inside the repository (give paths relative to --repo, e.g. workspace/nginx/values.yaml)", f)}
		}
		out = append(out, p)
	}
	return out, nil
}

// readOptional reads name; found is false when it does not exist.
func readOptional(src source, name string) (data []byte, found bool, err error) {
	data, err = src.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// componentReader reads component files from the source and keeps their
// warnings.
type componentReader struct {
	src      source
	warnings []config.Finding
}

func (c *componentReader) ComponentConfig(componentPath string) (*config.ComponentConfig, error) {
	name := componentPath + "/" + config.RepoFileName
	data, _, err := readOptional(c.src, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	cc, findings := config.ParseComponentConfig(name, data)
	if config.HasErrors(findings) {
		return nil, &config.Error{File: name, Findings: findings}
	}
	c.warnings = append(c.warnings, findings...)
	return cc, nil
}

// result is a plan entry with what its trees say.
type result struct {
	planned comments.Planned
	changes []treesync.PairChanges
	// missing are source directories that exist neither in the checkout
	// nor at their targets: nothing to promote (often a mistyped path).
	missing []string
	// opensPR is false when every target is skipped or every source is
	// missing.
	opensPR bool
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
		var missing []string
		for _, s := range e.Sync {
			if len(ix.Under(cleanDir(s.Source()))) == 0 && len(ix.Under(cleanDir(s.Target()))) == 0 {
				missing = append(missing, cleanDir(s.Source()))
			}
		}
		// Pairs where neither side exists are not "in sync": they name
		// nothing at all.
		nothing := len(missing) > 0 && len(missing) == len(e.Sync)
		inSync := r.InSync && !nothing
		missing = slices.Compact(slices.Sorted(slices.Values(missing)))
		carried := e.Carried() // the title the PR gets: without fully skipped components
		title, _ := prtext.Title(carried.ComponentNames(), e.TargetDescription)
		pl := comments.Planned{Entry: e, AlreadyInSync: inSync, Title: title}
		for _, d := range e.Duplicates {
			if !ix.SameContent(d.Winner.Source(), d.Loser.Source()) {
				pl.DifferingDuplicates = append(pl.DifferingDuplicates, d)
			}
		}
		out = append(out, result{planned: pl, changes: r.Pairs, missing: missing, opensPR: e.HasSync() && !nothing})
	}
	return out, nil
}

func printFindings(w io.Writer, findings []config.Finding) {
	for _, f := range findings {
		fmt.Fprintln(w, f.String())
	}
}

func trimSlash(p string) string { return strings.TrimSuffix(p, "/") }
