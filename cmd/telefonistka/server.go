package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/argodiff"
	"github.com/telefonistka/telefonistka/services/bumper"
	"github.com/telefonistka/telefonistka/services/drift"
	"github.com/telefonistka/telefonistka/services/fanout"
	"github.com/telefonistka/telefonistka/services/ingress"
	"github.com/telefonistka/telefonistka/services/planner"
	"github.com/telefonistka/telefonistka/services/promoter"
	"github.com/telefonistka/telefonistka/services/tracker"
)

// services lists every service in start order: consumers first, ingress
// last, so nothing is accepted before the consumers exist.
var services = []app.Builder{
	planner.Builder, promoter.Builder, drift.Builder, argodiff.Builder, fanout.Builder, bumper.Builder,
	tracker.Builder, ingress.Builder,
}

func serviceNames() []string {
	names := make([]string, 0, len(services))
	for _, s := range services {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

func selectServices(only string) ([]app.Builder, error) {
	if only == "" {
		return services, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []app.Builder
	for _, s := range services {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown service %q (known: %s)", n, strings.Join(serviceNames(), ", "))
	}
	return out, nil
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("server", "[--only SERVICE,...]",
		"Runs every service in one process: NATS is embedded (JetStream under TELEFONISTKA_DATA_DIR)\n"+
			"unless NATS_URL is set. Settings come from the environment (see the README); every\n"+
			"missing or invalid one is reported at once, before anything starts.")
	only := fs.String("only", "", "comma-separated services to run: "+strings.Join(serviceNames(), ", ")+" (default: all)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "telefonistka server: unexpected arguments:", fs.Args())
		return 2
	}
	builders, err := selectServices(*only)
	if err != nil {
		fmt.Fprintln(stderr, "telefonistka server:", err)
		return 2
	}
	return runServices(ctx, app.RunOptions{Embedded: true, LogOutput: stderr}, builders, stderr)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "<"+strings.Join(serviceNames(), "|")+">",
		"Runs one service against the NATS server at NATS_URL (one Deployment per service).")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	builders, err := selectServices(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "telefonistka serve:", err)
		return 2
	}
	return runServices(ctx, app.RunOptions{LogOutput: stderr}, builders, stderr)
}

func runServices(ctx context.Context, opts app.RunOptions, builders []app.Builder, stderr io.Writer) int {
	cfg, err := app.LoadAndCheck(builders...)
	if err == nil {
		err = app.Run(ctx, cfg, opts, builders...)
	}
	if err != nil {
		fmt.Fprintln(stderr, "telefonistka:", err)
		return 1
	}
	return 0
}
