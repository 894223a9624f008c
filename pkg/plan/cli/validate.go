package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/telefonistka/telefonistka/pkg/config"
)

const validateUsage = `Usage:
  telefonistka validate [--repo DIR] [--json] [--strict]

Lints DIR's root telefonistka.yaml as the repository file and every other
telefonistka.yaml as a component file. Prints one line per finding:
<file>:<line>:<column>: <error|warning>: <key path>: <message>
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
	fset.Usage = func() { fmt.Fprint(stderr, validateUsage); fset.PrintDefaults() }
	if code, ok := parseFlags(fset, args, stderr); !ok {
		return code
	}
	findings, err := ValidateDir(ctx, repo)
	if err != nil {
		fmt.Fprintf(stderr, "telefonistka validate: %v\n", err)
		return exitUsage
	}
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
	}
	for _, f := range findings {
		if f.Severity == config.SeverityError || strict {
			return exitFindings
		}
	}
	return exitOK
}

// ValidateDir lints every telefonistka.yaml under dir and returns the
// findings, sorted by file and position. File names are relative to dir.
func ValidateDir(ctx context.Context, dir string) ([]config.Finding, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the repository directory: %w", err)
	}
	defer func() { _ = root.Close() }() // read-only: a close error changes no finding
	var findings []config.Finding
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
		if p == config.RepoFileName {
			_, fs := config.ParseRepoConfig(p, data)
			findings = append(findings, fs...)
		} else {
			_, fs := config.ParseComponentConfig(p, data)
			findings = append(findings, fs...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading configuration files: %w", err)
	}
	config.SortFindings(findings)
	return findings, nil
}
