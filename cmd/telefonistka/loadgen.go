package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/telefonistka/telefonistka/cmd/telefonistka/internal/loadgen"
)

// runLoadgen sends signed deliveries to a running ingress (make bench-ingress).
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("loadgen", "[flags]",
		"Sends signed push webhooks to a running ingress at a fixed rate and reports latency\n"+
			"(make bench-ingress).")
	url := fs.String("url", "http://127.0.0.1:8080/webhook", "webhook URL")
	secret := fs.String("secret", os.Getenv("GITHUB_WEBHOOK_SECRET"), "webhook secret (default $GITHUB_WEBHOOK_SECRET)")
	rate := fs.Int("rate", 1000, "requests per second; 0 = as fast as the workers go")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	workers := fs.Int("workers", 64, "concurrent connections")
	bodyFile := fs.String("body", "", "payload file (default: a 4.7 KB push payload)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *secret == "" {
		fmt.Fprintln(stderr, "telefonistka loadgen: --secret or GITHUB_WEBHOOK_SECRET is required")
		return 2
	}
	body := []byte(samplePush)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(stderr, "telefonistka loadgen:", err)
			return 1
		}
		body = b
	}
	res, err := loadgen.Run(ctx, loadgen.Options{URL: *url, Secret: *secret, Rate: *rate, Duration: *duration,
		Workers: *workers, Body: body, RunID: fmt.Sprintf("load-%d", time.Now().UnixNano())})
	fmt.Fprintln(stdout, res)
	if err != nil {
		fmt.Fprintln(stderr, "telefonistka loadgen:", err)
		return 1
	}
	return 0
}
