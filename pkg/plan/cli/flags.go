// Package cli implements `telefonistka plan` and `telefonistka validate`:
// previewing the promotion plan of a local checkout and linting its
// configuration files, without GitHub.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1 // configuration errors (or warnings under --strict), or a failed command
	exitUsage    = 2 // usage errors (and I/O errors for validate)
)

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// listFlag collects a repeatable flag whose values may be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// parseFlags parses args into fs; it returns the exit code to use when
// parsing ends the command: help (printed to stdout, exit 0) or a usage
// error (stderr, exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	var parsed bytes.Buffer
	fs.SetOutput(&parsed)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = stdout.Write(parsed.Bytes())
		return exitOK, false
	}
	if err != nil {
		_, _ = stderr.Write(parsed.Bytes())
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return exitUsage, false
	}
	return 0, true
}
