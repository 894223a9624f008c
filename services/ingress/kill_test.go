package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// The child of TestDrainSurvivesKill and TestAnswerAfterSpoolSurvivesKill:
// ingress draining its spool into the parent's NATS server until it is
// killed; with SPOOL_CHILD_LISTEN it also answers webhooks there, once its
// spool holds them.
func TestDrainChildProcess(t *testing.T) {
	url, dir := os.Getenv("SPOOL_CHILD_NATS"), os.Getenv("SPOOL_CHILD_DIR")
	if url == "" {
		t.Skip("run by TestDrainSurvivesKill")
	}
	listen := os.Getenv("SPOOL_CHILD_LISTEN")
	conn, err := bus.Connect(bus.ConnOptions{URL: url, Name: "spool-child"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{WebhookSecret: secret, MaxBodyBytes: 1 << 25, PublishTimeout: 2 * time.Second, SpoolDir: dir, SpoolMaxBytes: 1 << 30}
	if listen != "" {
		cfg.AnswerAfter = AnswerAfterSpool
	}
	store, err := openJetStreamStore(context.Background(), conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(cfg, store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		r := chi.NewRouter()
		s.Routes(r)
		go func() { _ = http.ListenAndServe(listen, r) }()
	}
	_ = s.Run(context.Background()) // until killed
}

// Ingress answering once its spool holds a delivery (the all-in-one
// server's default), killed with SIGKILL again and again while webhooks
// arrive, stores every delivery it answered 202 exactly once: an answered
// append survives the process.
func TestAnswerAfterSpoolSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	srv := bustest.Start(t)
	l := &liveIngress{srv: srv, conn: srv.Connect()}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	l.url = "http://" + addr + "/webhook"
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDrainChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SPOOL_CHILD_NATS="+srv.URL(), "SPOOL_CHILD_DIR="+dir, "SPOOL_CHILD_LISTEN="+addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	client := &http.Client{Timeout: 2 * time.Second}
	post := func(id string) bool {
		r, _ := http.NewRequest(http.MethodPost, l.url, strings.NewReader(prBody))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-GitHub-Event", "pull_request")
		r.Header.Set("X-GitHub-Delivery", id)
		r.Header.Set("X-Hub-Signature-256", Sign([]byte(secret), []byte(prBody)))
		resp, err := client.Do(r)
		if err != nil {
			return false // not answered: GitHub shows a failed delivery
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusAccepted
	}
	var accepted []string
	seq := 0
	const kills = 8
	for k := 0; k <= kills; k++ {
		cmd := start()
		until := time.Now().Add(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		for time.Now().Before(until) || (k == kills && len(accepted) == 0) {
			seq++
			if id := fmt.Sprintf("k%d-%04d", k, seq); post(id) {
				accepted = append(accepted, id)
			}
		}
		if k < kills {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			continue
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	deadline := time.Now().Add(30 * time.Second)
	for l.stored(t) < uint64(len(accepted)) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would land now
	got := l.deliveredBodies(t)        // fails on a delivery stored twice
	for _, id := range accepted {
		if got[id] != prBody {
			t.Fatalf("delivery %s answered 202 and not stored (%d answered, %d stored)", id, len(accepted), len(got))
		}
	}
	t.Logf("%d deliveries answered 202 through %d kills, each stored once (%d sent)", len(accepted), kills, seq)
}

// Ingress killed with SIGKILL again and again while it drains its spool
// (at any point: mid-publish, between the acknowledgement and the removal,
// in the middle of the wal's truncation) still stores every spooled
// delivery exactly once, bodies over the inline limit included.
func TestDrainSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	srv := bustest.Start(t)
	conn := srv.Connect()
	dir := t.TempDir()
	sp, _, err := openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	bodies := map[string]string{}
	for i := range n {
		id := fmt.Sprintf("d-%03d", i)
		body := prBody
		if i%20 == 7 {
			body = largeBody(events.InlineBodyLimit + 1000 + i)
		}
		bodies[id] = body
		if err := sp.add(&spooledDelivery{DeliveryID: id, Event: "pull_request", ReceivedAt: time.Now(),
			Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.close()

	l := &liveIngress{srv: srv, conn: conn}
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDrainChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SPOOL_CHILD_NATS="+srv.URL(), "SPOOL_CHILD_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kills := 0
	for ; kills < 25 && l.stored(t) < n; kills++ {
		cmd := start()
		time.Sleep(time.Duration(30+rand.IntN(170)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	// The last one drains the rest.
	cmd := start()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for l.stored(t) < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would land now
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	got := l.deliveredBodies(t) // fails on a delivery stored twice
	if len(got) != n {
		t.Fatalf("stream holds %d deliveries after %d kills, want %d", len(got), kills, n)
	}
	for id, body := range bodies {
		if got[id] != body {
			t.Fatalf("delivery %s stored with another body", id)
		}
	}
	sp, _, err = openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	// What is left is stored already: the killed drain had not yet deleted
	// it. The next drain finds each id recorded.
	for _, e := range sp.pending(n) {
		if e.err != nil {
			t.Fatalf("entry %d left damaged: %v", e.index, e.err)
		}
		if _, ok := got[e.d.DeliveryID]; !ok {
			t.Fatalf("delivery %s left in the spool and not on the stream", e.d.DeliveryID)
		}
	}
	t.Logf("%d deliveries stored once each through %d kills", n, kills)
}
