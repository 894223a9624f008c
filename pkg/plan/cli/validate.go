package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/config"
)

const validateUsage = `Usage:
  telefonistka validate [--repo DIR] [--json] [--strict]

Lints DIR's root telefonistka.yaml as the repository file and every other
telefonistka.yaml as a component file. Prints one line per finding:
<file>:<line>:<column>: <error|warning>: <key path>: <message>
and a closing line with what was checked and found. A missing root
telefonistka.yaml is a warning (the bot would do nothing).
Exits 1 on errors (or on warnings with --strict), 2 on usage or I/O errors.

Flags:
`

// Validate runs `telefonistka validate` with args (without the command
// name) and returns the exit code.
func Validate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		repo           string
		asJSON, strict bool
	)
	fset := flag.NewFlagSet("validate", flag.ContinueOnError)
	fset.StringVar(&repo, "repo", ".", "the checkout `DIR`")
	fset.BoolVar(&asJSON, "json", false, "print a JSON array of findings")
	fset.BoolVar(&strict, "strict", false, "fail on warnings too")
	fset.Usage = func() { fmt.Fprint(fset.Output(), validateUsage); fset.PrintDefaults() }
	if code, ok := parseFlags(fset, args, stdout, stderr); !ok {
		return code
	}
	report, err := validateDir(ctx, repo)
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka validate: %v\n", err)
		return exitUsage
	}
	findings := report.findings
	if asJSON {
		if findings == nil {
			findings = []config.Finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(findings); err != nil {
			fmt.Fprintf(stderr, "telefonistka validate: %v\n", err)
			return exitUsage
		}
	} else {
		printFindings(stdout, findings)
		fmt.Fprintln(stdout, report.summary())
	}
	for _, f := range findings {
		if f.Severity == config.SeverityError || strict {
			return exitFindings
		}
	}
	return exitOK
}

// validation is what validate found: the findings, sorted by file and
// position (file names relative to the directory), and what was read.
type validation struct {
	findings   []config.Finding
	repoFile   bool // the root telefonistka.yaml exists
	components int  // component files read
}

// summary is validate's closing line, e.g. "Checked telefonistka.yaml and
// 2 component files: no problems found."
func (v validation) summary() string {
	var checked []string
	if v.repoFile {
		checked = append(checked, config.RepoFileName)
	}
	if v.components > 0 || !v.repoFile {
		checked = append(checked, plural(v.components, "component file"))
	}
	errs := len(config.Errors(v.findings))
	warnings := len(v.findings) - errs
	result := "no problems found"
	switch {
	case errs > 0 && warnings > 0:
		result = plural(errs, "error") + " and " + plural(warnings, "warning")
	case errs > 0:
		result = plural(errs, "error")
	case warnings > 0:
		result = plural(warnings, "warning")
	}
	if !v.repoFile && v.components == 0 {
		checked = []string{"no configuration file"}
	}
	return fmt.Sprintf("Checked %s: %s.", strings.Join(checked, " and "), result)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// validateDir lints every telefonistka.yaml under dir. A missing root file
// is a warning: the bot does nothing in such a repository.
func validateDir(ctx context.Context, dir string) (validation, error) {
	var v validation
	root, err := os.OpenRoot(dir)
	if err != nil {
		return v, fmt.Errorf("opening the repository directory: %w", err)
	}
	defer func() { _ = root.Close() }() // read-only: a close error changes no finding
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if d.Name() != config.RepoFileName || !d.Type().IsRegular() {
			return nil
		}
		data, err := root.ReadFile(p)
		if err != nil {
			return err
		}
		var found []config.Finding
		if p == config.RepoFileName {
			v.repoFile = true
			var cfg *config.RepoConfig
			cfg, found = config.ParseRepoConfig(p, data)
			found = append(found, argoCDConnectionWarning(p, cfg)...)
		} else {
			v.components++
			_, found = config.ParseComponentConfig(p, data)
		}
		v.findings = append(v.findings, found...)
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("reading configuration files: %w", err)
	}
	if !v.repoFile {
		v.findings = append(v.findings, config.MissingRepoFile())
	}
	config.SortFindings(v.findings)
	return v, nil
}

// argoCDConnectionWarning warns that Argo CD diffs need an Argo CD
// connection when the file asks for them and neither ARGOCD_SERVER_ADDR
// nor ARGOCD_TOKEN is set where validate runs (the argodiff service reads
// the same variables): without one, PRs get a comment saying so instead of
// a diff.
func argoCDConnectionWarning(file string, cfg *config.RepoConfig) []config.Finding {
	if cfg == nil || !cfg.ArgoCD.CommentDiffOnPR || os.Getenv("ARGOCD_SERVER_ADDR") != "" || os.Getenv("ARGOCD_TOKEN") != "" {
		return nil
	}
	return []config.Finding{{
		File: file, Severity: config.SeverityWarning, Key: "argocd.commentDiffonPR",
		Message: "Argo CD diffs need the argodiff service connected to Argo CD (ARGOCD_SERVER_ADDR, ARGOCD_TOKEN); neither is set here",
	}}
}
