package ingress

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
)

// flakyStore is a memStore whose JetStream can be made unavailable.
type flakyStore struct {
	memStore
	mu   sync.Mutex
	down error
}

func (f *flakyStore) setDown(err error) { f.mu.Lock(); f.down = err; f.mu.Unlock() }
func (f *flakyStore) err() error        { f.mu.Lock(); defer f.mu.Unlock(); return f.down }

func (f *flakyStore) Seen(ctx context.Context, id string) (bool, error) {
	if err := f.err(); err != nil {
		return false, err
	}
	return f.memStore.Seen(ctx, id)
}

func (f *flakyStore) Store(ctx context.Context, subject string, env *events.Envelope) (bool, error) {
	if err := f.err(); err != nil {
		return false, err
	}
	return f.memStore.Store(ctx, subject, env)
}

func (f *flakyStore) Remember(ctx context.Context, id string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.memStore.Remember(ctx, id)
}

func (f *flakyStore) PutBody(ctx context.Context, id string, body []byte) (*events.BodyRef, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.memStore.PutBody(ctx, id, body)
}

func newSpoolService(t *testing.T, store deliveryStore, dir string, maxBytes int64) (*Service, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{WebhookSecret: secret, MaxBodyBytes: 1 << 20, PublishTimeout: 500 * time.Millisecond, SpoolDir: dir, SpoolMaxBytes: maxBytes}
	s, err := NewService(cfg, store, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// runService runs s's drain until the returned stop is called (or the test
// ends).
func runService(t *testing.T, s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// A delivery JetStream cannot take (no leader, no responders, a timeout) is
// accepted into the spool, and stored once JetStream is back, with the
// time it was received; its id is recorded.
func TestBusDownIsSpooledThenStored(t *testing.T) {
	for _, down := range []error{nats.ErrTimeout, nats.ErrNoResponders, context.DeadlineExceeded,
		&jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}} {
		t.Run(down.Error(), func(t *testing.T) {
			store := &flakyStore{}
			store.setDown(down)
			s, reg := newSpoolService(t, store, t.TempDir(), 1<<20)
			received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			s.handler.now = func() time.Time { return received }
			w := serve(s, req{event: "pull_request", delivery: "d-1", body: prBody}.build())
			if w.Code != 202 || !strings.Contains(w.Body.String(), "spooled") {
				t.Fatalf("answer %d %q, want 202 accepted (spooled)", w.Code, w.Body.String())
			}
			if got := testutil.ToFloat64(s.handler.metrics.spoolEntries); got != 1 {
				t.Fatalf("spool entries gauge %v, want 1", got)
			}
			stop := runService(t, s)
			time.Sleep(300 * time.Millisecond) // the drain tries, JetStream still down
			store.setDown(nil)
			waitSpoolEmpty(t, s)
			stop()
			if len(store.stored) != 1 || !store.seen["d-1"] {
				t.Fatalf("stored %d times, recorded %v; want once, recorded", len(store.stored), store.seen["d-1"])
			}
			var d events.GitHubDelivery
			if err := store.stored[0].DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			if string(d.Body) != prBody || !d.ReceivedAt.Equal(received) || d.Headers["X-Github-Delivery"] != "d-1" {
				t.Fatalf("stored delivery %+v differs from the one received", d)
			}
			if testutil.ToFloat64(s.handler.metrics.spooled) != 1 || testutil.ToFloat64(s.handler.metrics.drained) != 1 ||
				testutil.ToFloat64(s.handler.metrics.spoolBytes) != 0 {
				t.Fatal("spooled/drained counters or bytes gauge wrong")
			}
			_ = reg
		})
	}
}

// 503 stays the answer when the spool is off, when JetStream refused the
// delivery for a reason waiting does not cure, and when the spool is full.
func TestBusDownIs503WithoutRoom(t *testing.T) {
	t.Run("spool off", func(t *testing.T) {
		s, _ := newTestService(t, &memStore{fail: nats.ErrTimeout}, 1<<20)
		if w := serve(s, req{event: "push", delivery: "x", body: `{}`}.build()); w.Code != 503 {
			t.Fatalf("status %d, want 503", w.Code)
		}
	})
	t.Run("refused", func(t *testing.T) {
		refused := &jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "maximum messages exceeded"}
		s, _ := newSpoolService(t, &memStore{fail: refused}, t.TempDir(), 1<<20)
		if w := serve(s, req{event: "push", delivery: "x", body: `{}`}.build()); w.Code != 503 {
			t.Fatalf("status %d, want 503", w.Code)
		}
		if n, _ := s.handler.spool.usage(); n != 0 {
			t.Fatalf("spool holds %d entries", n)
		}
	})
	t.Run("full", func(t *testing.T) {
		s, _ := newSpoolService(t, &memStore{fail: nats.ErrNoResponders}, t.TempDir(), 2000)
		if w := serve(s, req{event: "pull_request", delivery: "a", body: prBody}.build()); w.Code != 202 {
			t.Fatalf("first: %d, want 202", w.Code)
		}
		big := largeBody(3000)
		if w := serve(s, req{event: "pull_request", delivery: "b", body: big}.build()); w.Code != 503 ||
			!strings.Contains(w.Body.String(), "spool full") {
			t.Fatalf("over the limit: %d %q, want 503 spool full", w.Code, w.Body.String())
		}
		if err := s.ReadyWithoutBus(); err == nil {
			t.Fatal("a spool that refused a delivery reported ready without the bus")
		}
		if testutil.ToFloat64(s.handler.metrics.spoolFull) != 1 {
			t.Fatal("spool-full counter not counted")
		}
	})
}

// Headers ingress does not keep (credentials among them) never reach the
// spool's files.
func TestSpoolKeepsNoCredentials(t *testing.T) {
	dir := t.TempDir()
	s, _ := newSpoolService(t, &memStore{fail: nats.ErrTimeout}, dir, 1<<20)
	r := req{event: "pull_request", delivery: "d", body: prBody}.build()
	r.Header.Set("Authorization", "Basic c2VjcmV0LXRva2VuLTQyNDI=")
	r.Header.Set("Cookie", "session=cookie-secret-4242")
	if w := serve(s, r); w.Code != 202 {
		t.Fatalf("status %d", w.Code)
	}
	s.handler.spool.close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("c2VjcmV0LXRva2VuLTQyNDI")) || bytes.Contains(b, []byte("cookie-secret-4242")) || bytes.Contains(b, []byte(secret)) {
			t.Fatalf("%s holds a credential", f)
		}
	}
}

// A spool directory is used by one process at a time.
func TestSpoolDirIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, _ := newSpoolService(t, &memStore{}, dir, 1<<20)
	defer s.handler.spool.close()
	if _, _, err := openSpool(dir, 1<<20); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v, want in use", err)
	}
}

// An append a crash interrupted (never answered) is cut when the spool is
// opened again; the entries before it are kept.
func TestSpoolRepairsTornTail(t *testing.T) {
	dir := t.TempDir()
	sp, _, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := sp.add(&spooledDelivery{DeliveryID: id, Event: "push", Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	sp.close()
	seg := filepath.Join(dir, "g00000000000000000001", "00000000000000000001")
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{0xc8, 0x01, 'x', 'y'}) // says 200 bytes follow, 2 do
	_ = f.Close()
	sp, notes, err := openSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	if n, _ := sp.usage(); n != 2 || len(notes) != 1 {
		t.Fatalf("after repair: %d entries, notes %v; want 2 and one note", n, notes)
	}
	if p := sp.pending(5); len(p) != 2 || p[0].err != nil || p[0].d.DeliveryID != "a" || p[1].d.DeliveryID != "b" {
		t.Fatalf("pending after repair %+v", p)
	}
}

// crashingStore stops the drain, as a kill would, right after JetStream
// acknowledged a delivery: before its id is recorded, or after. Once
// crashed, every call fails, so that the shutdown stores nothing more.
type crashingStore struct {
	deliveryStore
	afterRecord bool
	run         context.Context
	crashed     chan struct{}
	once        sync.Once
}

func (c *crashingStore) Seen(ctx context.Context, id string) (bool, error) {
	if c.run.Err() != nil {
		return false, c.run.Err()
	}
	return c.deliveryStore.Seen(ctx, id)
}

func (c *crashingStore) Remember(ctx context.Context, id string) error {
	if c.afterRecord {
		if err := c.deliveryStore.Remember(ctx, id); err != nil {
			return err
		}
	}
	c.once.Do(func() { close(c.crashed) })
	<-c.run.Done()
	return c.run.Err()
}

// Ingress stopped in the middle of a drain (after JetStream acknowledged a
// spooled delivery, before the spool let go of it) stores it again when it
// starts, and the stream still holds it once: the duplicate window drops
// the second publish, or, once the window has passed, the recorded id
// answers. The body goes through the object store.
func TestDrainInterruptedStoresOnce(t *testing.T) {
	for _, tc := range []struct {
		name        string
		afterRecord bool
		window      time.Duration
	}{
		{"before the id is recorded", false, 0},
		{"after the id is recorded, duplicate window passed", true, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := bustest.StartWithWindow(t, tc.window)
			conn := srv.Connect()
			cfg := Config{WebhookSecret: secret, MaxBodyBytes: 1 << 25, PublishTimeout: 2 * time.Second, SpoolDir: t.TempDir(), SpoolMaxBytes: 1 << 25}
			store, err := openJetStreamStore(context.Background(), conn, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// What a previous process left: one small, one large delivery.
			sp, _, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			big := largeBody(events.InlineBodyLimit + 100)
			for id, body := range map[string]string{"big": big} {
				if err := sp.add(&spooledDelivery{DeliveryID: id, Event: "pull_request", ReceivedAt: time.Now(),
					Headers: http.Header{"Content-Type": {"application/json"}, "X-Github-Delivery": {id}}, Body: []byte(body)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := sp.add(&spooledDelivery{DeliveryID: "small", Event: "pull_request", ReceivedAt: time.Now(),
				Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(prBody)}); err != nil {
				t.Fatal(err)
			}
			sp.close()

			runCtx, crash := context.WithCancel(context.Background())
			cs := &crashingStore{deliveryStore: store, afterRecord: tc.afterRecord, run: runCtx, crashed: make(chan struct{})}
			first, err := NewService(cfg, cs, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = first.Run(runCtx); close(done) }()
			select {
			case <-cs.crashed:
			case <-time.After(30 * time.Second):
				t.Fatal("the drain never stored the first entry")
			}
			crash()
			<-done
			time.Sleep(tc.window + 500*time.Millisecond) // past the window, when there is one

			second, err := NewService(cfg, store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := second.handler.spool.usage(); n != 2 {
				t.Fatalf("after the crash the spool holds %d entries, want 2", n)
			}
			runService(t, second)
			waitSpoolEmpty(t, second)
			l := &liveIngress{srv: srv, conn: conn}
			bodies := l.deliveredBodies(t) // fails on a delivery stored twice
			if len(bodies) != 2 || bodies["big"] != big || bodies["small"] != prBody {
				t.Fatalf("stream holds %d deliveries, want big and small once each, bodies intact", len(bodies))
			}
		})
	}
}

// The process-wide readiness ignores an unavailable bus while the spool
// has room.
func TestReadyWithoutBus(t *testing.T) {
	s, _ := newTestService(t, &memStore{}, 1<<20)
	if err := s.ReadyWithoutBus(); err == nil {
		t.Fatal("ready without bus with the spool off")
	}
	s, _ = newSpoolService(t, &memStore{}, t.TempDir(), 1<<20)
	if err := s.ReadyWithoutBus(); err != nil {
		t.Fatal(err)
	}
}

// benchSpool opens a spool for a benchmark, closed when it ends, and
// returns a 5 KB push to append.
func benchSpool(b *testing.B) (*spool, *spooledDelivery) {
	b.Helper()
	sp, _, err := openSpool(b.TempDir(), 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sp.close)
	return sp, &spooledDelivery{DeliveryID: "d", Event: "push", Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(benchPush())}
}

// BenchmarkSpoolAdd is one fsynced append of a 5 KB push (what a webhook
// answered 202 (spooled) waits for on top of the failed store).
func BenchmarkSpoolAdd(b *testing.B) {
	sp, d := benchSpool(b)
	b.SetBytes(int64(len(d.Body)))
	for b.Loop() {
		if err := sp.add(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpoolAddConcurrent is 64 webhooks appending 5 KB pushes at
// once: appends that arrive together share a write and an fsync.
func BenchmarkSpoolAddConcurrent(b *testing.B) {
	sp, d := benchSpool(b)
	b.SetBytes(int64(len(d.Body)))
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := sp.add(d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSpoolDrain is the spool's own cost per delivery drained (read,
// marked stored, removed from the log in bulk; JetStream excluded), in
// batches as the drain takes them.
func BenchmarkSpoolDrain(b *testing.B) {
	sp, d := benchSpool(b)
	for range b.N {
		if err := sp.add(d); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for left := b.N; left > 0; {
		batch := sp.pending(drainBatch)
		if len(batch) == 0 || batch[0].err != nil {
			b.Fatalf("pending: %d entries", len(batch))
		}
		sp.markStored(batch[len(batch)-1])
		left -= len(batch)
	}
	if err := sp.release(true); err != nil {
		b.Fatal(err)
	}
}

// A spool entry read back from disk, whatever its bytes, decodes or is an
// error (the drain then drops it), never a panic; one that decodes encodes
// to the same delivery.
func FuzzDecodeSpooled(f *testing.F) {
	d := &spooledDelivery{DeliveryID: "d", Event: "push", Headers: http.Header{"Content-Type": {"application/json"}},
		Head: &payloadHead{Action: "opened"}, Body: []byte(prBody)}
	good, err := d.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeSpooled(data)
		if err != nil {
			return
		}
		again, err := d.encode()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		back, err := decodeSpooled(again)
		if err != nil || back.DeliveryID != d.DeliveryID || !bytes.Equal(back.Body, d.Body) {
			t.Fatalf("entry changed through encode: %v", err)
		}
	})
}
