package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/ingress"
)

// runEvent handles one event file synchronously, as a GitHub Actions step
// does: every service except ingress runs on a temporary embedded NATS, the
// file is injected as a delivery (no signature: the runner is trusted), and
// the command returns once every consumer has caught up. It exits 1 if a
// service gave up on a message.
func runEvent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("event", "-t TYPE -f FILE",
		"Handles one GitHub event file synchronously, as a GitHub Actions step: every service\n"+
			"but ingress runs on a temporary embedded NATS until everything the event caused is done.\n"+
			"Exits 1 if a service gave up on a message.")
	var typ, file string
	for _, name := range []string{"type", "t"} {
		fs.StringVar(&typ, name, os.Getenv("GITHUB_EVENT_NAME"), "event type (default $GITHUB_EVENT_NAME)")
	}
	for _, name := range []string{"file", "f"} {
		fs.StringVar(&file, name, os.Getenv("GITHUB_EVENT_PATH"), "event payload file (default $GITHUB_EVENT_PATH)")
	}
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if typ == "" || file == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	body, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "telefonistka event: reading the event file:", err)
		return 1
	}
	if err := handleEvent(ctx, typ, body, stderr); err != nil {
		fmt.Fprintln(stderr, "telefonistka event:", err)
		return 1
	}
	fmt.Fprintf(stdout, "handled %s event from %s\n", typ, file)
	return 0
}

func handleEvent(ctx context.Context, typ string, body []byte, logs io.Writer) error {
	dir, err := os.MkdirTemp("", "telefonistka-event-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := app.LoadConfig()
	if err != nil {
		return err
	}
	cfg.NATSURL, cfg.NATSListen, cfg.DataDir, cfg.ListenAddress = "", "", dir, "127.0.0.1:0"
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-GitHub-Event", typ)
	hdr.Set("X-GitHub-Delivery", events.RandomID())
	env, err := ingress.NewDelivery(hdr, hdr.Get("X-GitHub-Delivery"), typ, body, time.Now())
	if err != nil {
		return fmt.Errorf("reading the event file: %w", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	outcome := make(chan error, 1)
	started := func(e *app.Env) {
		go func() {
			outcome <- inject(runCtx, e, env, cfg.EventTimeout)
			stop()
		}()
	}
	var consumers []app.Builder
	for _, b := range services {
		if b.Name != "ingress" {
			consumers = append(consumers, b)
		}
	}
	if err := app.Run(runCtx, cfg, app.RunOptions{Embedded: true, LogOutput: logs, Started: started}, consumers...); err != nil {
		return err
	}
	select {
	case err := <-outcome:
		return err
	default:
		return errors.New("interrupted")
	}
}

// inject publishes the delivery once the consumers exist and waits until
// everything it caused has been handled.
func inject(ctx context.Context, e *app.Env, env *events.Envelope, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := waitConsumersStable(ctx, e); err != nil {
		return err
	}
	if _, err := e.Publisher().Publish(ctx, env); err != nil {
		return err
	}
	if err := bus.WaitIdle(ctx, e.Conn.JS, 500*time.Millisecond); err != nil {
		return err
	}
	n, err := bus.DeadLetters(ctx, e.Conn.JS)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d message(s) could not be handled; see the log above", n)
	}
	return nil
}

// waitConsumersStable waits until the set of consumers has stopped growing:
// services create theirs as they start.
func waitConsumersStable(ctx context.Context, e *app.Env) error {
	last, stableSince := -1, time.Now()
	for {
		n := 0
		for _, spec := range events.Streams(0) {
			st, err := e.Conn.JS.Stream(ctx, spec.Name)
			if err != nil {
				return err
			}
			names := st.ConsumerNames(ctx)
			for range names.Name() {
				n++
			}
		}
		if n != last {
			last, stableSince = n, time.Now()
		} else if n > 0 && time.Since(stableSince) > 300*time.Millisecond {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
