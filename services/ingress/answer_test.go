package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/wal"

	"github.com/telefonistka/telefonistka/pkg/events"
)

// startSpoolFirst runs ingress answering once its spool holds a delivery,
// as the all-in-one server does on its embedded NATS.
func startSpoolFirst(t *testing.T) *liveIngress {
	t.Helper()
	t.Setenv("INGRESS_ANSWER_AFTER", "")
	l := startIngressEnv(t, 0, true)
	if !l.svc.handler.answerAfterSpool {
		t.Fatal("ingress on an embedded NATS does not answer after the spool")
	}
	return l
}

// In the all-in-one server a delivery is answered once the spool holds it;
// the drain then stores every delivery on the stream exactly once: those
// sent one after the other in the order they were sent, those sent at once
// by 16 clients each once, a body over the inline limit through the object
// store, and GitHub's redeliveries not again.
func TestAnswerAfterSpoolStoresEveryDeliveryOnce(t *testing.T) {
	l := startSpoolFirst(t)
	const sequential, concurrent, clients = 200, 400, 16
	for i := range sequential {
		if got := l.post(t, fmt.Sprintf("seq-%03d", i), prBody); got != 202 {
			t.Fatalf("delivery %d: %d, want 202", i, got)
		}
	}
	big := largeBody(events.InlineBodyLimit + 2048)
	var wg sync.WaitGroup
	errs := make(chan string, concurrent)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < concurrent; i += clients {
				body := prBody
				if i%50 == 0 {
					body = big
				}
				if got := l.post(t, fmt.Sprintf("par-%03d", i), body); got != 202 {
					errs <- fmt.Sprintf("par-%03d: %d", i, got)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	waitSpoolEmpty(t, l.svc)
	// GitHub redelivers some: stored already, they are not stored again.
	for _, id := range []string{"seq-000", "par-007", "par-050"} {
		body := prBody
		if id == "par-050" {
			body = big
		}
		if got := l.post(t, id, body); got != 202 {
			t.Fatalf("redelivery of %s: %d", id, got)
		}
	}
	waitSpoolEmpty(t, l.svc)
	time.Sleep(200 * time.Millisecond)
	bodies := l.deliveredBodies(t) // fails on a delivery stored twice
	if len(bodies) != sequential+concurrent {
		t.Fatalf("stream holds %d deliveries, want %d", len(bodies), sequential+concurrent)
	}
	if bodies["par-050"] != big || bodies["seq-199"] != prBody {
		t.Fatal("stored bodies differ from those sent")
	}
	if order := l.deliveryOrder(t); strings.Join(order[:sequential], ",") != strings.Join(seqIDs(sequential), ",") {
		t.Fatalf("deliveries sent one after the other are stored in another order: %v", order[:10])
	}
	if _, bytes := l.svc.handler.spool.usage(); bytes != 0 {
		waitCompacted(t, l.svc)
	}
}

func seqIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("seq-%03d", i)
	}
	return out
}

// waitCompacted waits for the stored entries to leave the spool's log.
func waitCompacted(t *testing.T, svc *Service) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, bytes := svc.handler.spool.usage(); bytes == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("stored entries never left the spool's log")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliveryOrder returns the delivery ids on the stream in stream order.
func (l *liveIngress) deliveryOrder(t *testing.T) []string {
	t.Helper()
	var out []string
	l.eachDelivery(t, func(_ context.Context, env *events.Envelope) { out = append(out, env.ID) })
	return out
}

// While NATS is down, ingress answering after its spool still answers
// every delivery 202 and stores each once NATS is back.
func TestAnswerAfterSpoolNATSDown(t *testing.T) {
	l := startSpoolFirst(t)
	if got := l.post(t, "before", prBody); got != 202 {
		t.Fatalf("before outage: %d", got)
	}
	waitSpoolEmpty(t, l.svc)
	l.srv.Stop()
	for i := range 20 {
		if got := l.post(t, fmt.Sprintf("during-%d", i), prBody); got != 202 {
			t.Fatalf("during outage: %d, want 202", got)
		}
	}
	time.Sleep(300 * time.Millisecond) // the drain tries and waits
	l.srv.Restart()
	waitSpoolEmpty(t, l.svc)
	if bodies := l.deliveredBodies(t); len(bodies) != 21 {
		t.Fatalf("stream holds %d deliveries, want 21", len(bodies))
	}
}

// A spool that has no room left does not refuse deliveries JetStream can
// take: they are stored before the answer, as without the spool.
func TestAnswerAfterSpoolFullStoresFirst(t *testing.T) {
	store := &memStore{}
	reg := prometheus.NewRegistry()
	cfg := Config{WebhookSecret: secret, MaxBodyBytes: 1 << 20, PublishTimeout: 500 * time.Millisecond,
		SpoolDir: t.TempDir(), SpoolMaxBytes: 64, AnswerAfter: AnswerAfterSpool}
	s, err := NewService(cfg, store, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.handler.spool.close()
	w := serve(s, req{event: "pull_request", delivery: "d-1", body: prBody}.build())
	if w.Code != 202 || len(store.stored) != 1 {
		t.Fatalf("answer %d with %d stored; want 202 with the delivery stored", w.Code, len(store.stored))
	}
	if n, _ := s.handler.spool.usage(); n != 0 {
		t.Fatalf("spool holds %d entries, want none", n)
	}
}

// INGRESS_ANSWER_AFTER takes jetstream or spool, and spool needs the spool.
func TestAnswerAfterSetting(t *testing.T) {
	c := Config{WebhookSecret: "s", MaxBodyBytes: 1, PublishTimeout: time.Second, AnswerAfter: "disk"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "INGRESS_ANSWER_AFTER") {
		t.Fatalf("INGRESS_ANSWER_AFTER=disk: %v", err)
	}
	c.AnswerAfter = AnswerAfterSpool
	if _, err := NewService(c, &memStore{}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "INGRESS_SPOOL_MAX_BYTES") {
		t.Fatalf("spool answers without a spool: %v", err)
	}
	// On an external NATS the default is to answer after JetStream.
	t.Setenv("INGRESS_ANSWER_AFTER", "")
	l := startIngressEnv(t, 0, false)
	if l.svc.handler.answerAfterSpool {
		t.Fatal("ingress on an external NATS answers after its spool by default")
	}
}

// Appends from many webhooks at once share writes and fsyncs, and each
// gets an entry of its own, in a log that opens again whole.
func TestSpoolConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	sp, _, err := openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 32, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				d := &spooledDelivery{DeliveryID: fmt.Sprintf("%d-%d", w, i), Event: "push",
					Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(prBody)}
				if err := sp.add(d); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	sp.close()
	sp, _, err = openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	seen := map[string]bool{}
	for {
		batch := sp.pending(drainBatch)
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			if e.err != nil || seen[e.d.DeliveryID] {
				t.Fatalf("entry %d: %v, seen before %v", e.index, e.err, seen[e.d.DeliveryID])
			}
			seen[e.d.DeliveryID] = true
		}
		sp.markStored(batch[len(batch)-1])
	}
	if len(seen) != writers*each {
		t.Fatalf("log holds %d entries, want %d", len(seen), writers*each)
	}
	if err := sp.release(true); err != nil {
		t.Fatal(err)
	}
	if n, bytes := sp.usage(); n != 0 || bytes != 0 {
		t.Fatalf("after release %d entries, %d bytes", n, bytes)
	}
}

// The spool goes on to a new generation once the newest holds genBytes,
// and deletes a generation once all its entries are stored; appends never
// wait for that.
func TestSpoolGenerations(t *testing.T) {
	dir := t.TempDir()
	sp, _, err := openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	body := []byte(benchPush())
	n := 3*genBytes/len(body) + 10
	for i := range n {
		if err := sp.addUnsynced(&spooledDelivery{DeliveryID: fmt.Sprint(i), Event: "push",
			Headers: http.Header{"Content-Type": {"application/json"}}, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if gens := genDirs(t, dir); len(gens) != 4 {
		t.Fatalf("%d entries of %d bytes in %d generations, want 4", n, len(body), len(gens))
	}
	stored := 0
	for stored < n {
		batch := sp.pending(100)
		for i, e := range batch {
			if e.err != nil || e.d.DeliveryID != fmt.Sprint(stored+i) {
				t.Fatalf("entry %d: %+v", stored+i, e)
			}
		}
		sp.markStored(batch[len(batch)-1])
		stored += len(batch)
	}
	if gens := genDirs(t, dir); len(gens) != 1 {
		t.Fatalf("every entry stored, %d generations left, want the newest only", len(gens))
	}
	if err := sp.release(true); err != nil {
		t.Fatal(err)
	}
	if n, bytes := sp.usage(); n != 0 || bytes != 0 || len(genDirs(t, dir)) != 1 {
		t.Fatalf("after release: %d entries, %d bytes, %d generations", n, bytes, len(genDirs(t, dir)))
	}
}

func genDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), genPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// A spool the first version left (its log in the directory itself) is
// drained first, then its files deleted.
func TestSpoolLegacyLayout(t *testing.T) {
	dir := t.TempDir()
	old := &spooledDelivery{DeliveryID: "old", Event: "pull_request", Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(prBody)}
	data, err := old.encode()
	if err != nil {
		t.Fatal(err)
	}
	l, err := wal.Open(dir, &wal.Options{SegmentSize: spoolSegmentSize, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(1, data); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	sp, _, err := openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if err := sp.add(&spooledDelivery{DeliveryID: "new", Event: "push", Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(prBody)}); err != nil {
		t.Fatal(err)
	}
	batch := sp.pending(10)
	if len(batch) != 2 || batch[0].d.DeliveryID != "old" || batch[1].d.DeliveryID != "new" {
		t.Fatalf("pending %+v, want old then new", batch)
	}
	sp.markStored(batch[1])
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000001")); !os.IsNotExist(err) {
		t.Fatalf("the old log's file is still there: %v", err)
	}
}

// An empty old log (nothing to store) goes when the spool is idle.
func TestSpoolEmptyLegacyLogGoes(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, &wal.Options{SegmentSize: spoolSegmentSize, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	seg := filepath.Join(dir, "00000000000000000001")
	if _, err := os.Stat(seg); err != nil {
		t.Fatalf("the wal wrote no file for an empty log: %v", err)
	}
	sp, _, err := openSpool(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if !sp.storedLeft() {
		t.Fatal("the empty old log is not counted as something to delete")
	}
	if err := sp.release(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(seg); !os.IsNotExist(err) || sp.storedLeft() {
		t.Fatalf("the empty old log is still there (%v), stored left %v", err, sp.storedLeft())
	}
}

// Stopping ingress stores what its spool still holds before it returns, so
// nothing it answered waits for the next start.
func TestStopStoresWhatTheSpoolHolds(t *testing.T) {
	store := &memStore{}
	dir := t.TempDir()
	cfg := Config{WebhookSecret: secret, MaxBodyBytes: 1 << 20, PublishTimeout: 2 * time.Second,
		SpoolDir: dir, SpoolMaxBytes: 1 << 20, AnswerAfter: AnswerAfterSpool}
	s, err := NewService(cfg, store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if w := serve(s, req{event: "pull_request", delivery: fmt.Sprint("d-", i), body: prBody}.build()); w.Code != 202 {
			t.Fatalf("answer %d", w.Code)
		}
	}
	if len(store.stored) != 0 {
		t.Fatal("stored before the answer; the test proves nothing")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Run(ctx) // stopping at once
	if len(store.stored) != 3 {
		t.Fatalf("stopped with %d of 3 deliveries stored", len(store.stored))
	}
	sp, _, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if n, bytes := sp.usage(); n != 0 || bytes != 0 {
		t.Fatalf("spool left with %d entries, %d bytes", n, bytes)
	}
}
