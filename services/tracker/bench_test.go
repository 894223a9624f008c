package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/telefonistka/telefonistka/pkg/bus"
	"github.com/telefonistka/telefonistka/pkg/bus/bustest"
	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/scenario"
	"github.com/telefonistka/telefonistka/services/tracker/internal/state"
	"github.com/telefonistka/telefonistka/services/tracker/internal/view"
)

// benchHarness is a tracker without comments on an embedded JetStream.
func benchHarness(b *testing.B) *harness {
	b.Helper()
	srv := bustest.Start(b)
	return &harness{t: b, srv: srv, conn: srv.Connect(), patience: 30 * time.Minute,
		cfg: Config{Retention: 24 * time.Hour, Concurrency: 8}}
}

// publishAll stores events fast (asynchronous publishes, in order).
func (h *harness) publishAll(evs []*events.Envelope) {
	h.t.Helper()
	for i, env := range evs {
		subject, err := events.Subject(env)
		if err != nil {
			h.t.Fatal(err)
		}
		data, err := env.Encode()
		if err != nil {
			h.t.Fatal(err)
		}
		msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		if _, err := h.conn.JS.PublishMsgAsync(msg, jetstream.WithMsgID(env.ID)); err != nil {
			h.t.Fatal(err)
		}
		if i%4096 == 4095 {
			<-h.conn.JS.PublishAsyncComplete()
		}
	}
	<-h.conn.JS.PublishAsyncComplete()
	h.published += len(evs)
}

// BenchmarkProjectEventKV is the cost per event of projecting into the KV
// bucket, one event after the other: reading the event, then a
// compare-and-set update of each record it touches (one NATS call for a
// record the tracker wrote last, a read first otherwise).
func BenchmarkProjectEventKV(b *testing.B) {
	h := benchHarness(b)
	h.start()
	w := scenario.NewWriter()
	w.Fleet(2500, 200) // 53,000 events: each iteration projects a new one
	ctx := context.Background()
	before := h.conn.NC.Stats().OutMsgs
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := h.svc.handle(ctx, &bus.Message{Env: w.Events[i%len(w.Events)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(h.conn.NC.Stats().OutMsgs-before)/float64(i), "nats-calls/event")
}

// BenchmarkRebuild projects a stream of events (TRACKER_BENCH_EVENTS,
// default 100,000: about 4,500 changes through three stages), then deletes
// the bucket and rebuilds it from the stream, and reports how long each
// took and the events per second.
func BenchmarkRebuild(b *testing.B) {
	n := 100000
	if v := os.Getenv("TRACKER_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	w := scenario.NewWriter()
	w.Fleet(n/20+1, 200)
	if len(w.Events) < n {
		b.Fatalf("the fleet has %d events, fewer than %d", len(w.Events), n)
	}
	evs := w.Events[:n]
	for b.Loop() {
		h := benchHarness(b)
		start := time.Now()
		h.publishAll(evs)
		published := time.Since(start)

		start = time.Now()
		h.start()
		h.settle()
		first := time.Since(start)
		records := len(h.snapshot())

		h.stop()
		if err := h.conn.JS.DeleteKeyValue(context.Background(), events.BucketTracker); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		h.start()
		h.settle()
		rebuild := time.Since(start)
		h.stop()
		b.ReportMetric(float64(n), "events")
		b.ReportMetric(float64(records), "records")
		b.ReportMetric(published.Seconds(), "publish-s")
		b.ReportMetric(first.Seconds(), "first-projection-s")
		b.ReportMetric(rebuild.Seconds(), "rebuild-s")
		b.ReportMetric(float64(n)/rebuild.Seconds(), "rebuild-events/s")
	}
}

// BenchmarkRepositoryPage serves the repository page (recent changes and
// the matrix) of a repository with 500 targets x 200 components, every
// cell running a merged promotion PR and a third of them with one waiting,
// through the HTTP handler: "full" computes every row of the environment
// view again (as the first page after a start does), "one-change" after a
// promotion PR of one target changed (its row is computed again),
// "unchanged" when nothing changed since the last page.
func BenchmarkRepositoryPage(b *testing.B) {
	m := bigModel(b, 500, 200)
	r := chi.NewRouter()
	(&Service{model: m}).Routes(r)
	req := httptest.NewRequest(http.MethodGet, "/tracker/acme/gitops", nil)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	urls := []string{"https://github.com/acme/gitops", "https://ghe.example.com/acme/gitops"}
	for _, kind := range []string{"full", "one-change", "unchanged"} {
		b.Run(kind, func(b *testing.B) {
			var w countingWriter
			i := 0
			for b.Loop() {
				b.StopTimer()
				var pr *state.PR
				switch kind {
				case "full": // a new web address of the repository changes every link
					pr = &state.PR{Repo: scenario.Repo, Number: 1, URL: urls[i%2] + "/pull/1"}
				case "one-change": // target 7's running PR merged again, later
					pr = &state.PR{Repo: scenario.Repo, Number: 100007, Promotion: true, URL: urls[0] + "/pull/100007",
						Merged: &state.Merge{At: at.Add(time.Duration(i) * time.Second), Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8"}}
				}
				if pr != nil {
					if err := m.Put(state.PRKey(scenario.Repo, pr.Number), mustJSON(b, pr)); err != nil {
						b.Fatal(err)
					}
				}
				i++
				b.StartTimer()
				w = countingWriter{header: http.Header{}}
				r.ServeHTTP(&w, req)
				if w.code != http.StatusOK {
					b.Fatal(w.code)
				}
			}
			b.ReportMetric(float64(w.n)/(1<<20), "page-MiB")
		})
	}
}

// countingWriter is a ResponseWriter that counts what it is given, as a
// network connection takes it (httptest's recorder would keep it all).
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(code int) { w.code = code }

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func bigModel(b *testing.B, targets, components int) *view.Model {
	b.Helper()
	m := view.NewModel()
	repo := scenario.Repo
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	put := func(key string, v any) {
		if err := m.Put(key, mustJSON(b, v)); err != nil {
			b.Fatal(err)
		}
	}
	for t := range targets {
		merged := 100000 + t
		put(state.PRKey(repo, merged), &state.PR{Repo: repo, Number: merged, URL: fmt.Sprintf("https://github.com/acme/gitops/pull/%d", merged),
			Promotion: true, Merged: &state.Merge{At: at, Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8"}})
		dir := fmt.Sprintf("clusters/env-%03d/", t)
		for c := range components {
			cell := &state.Cell{Repo: repo, Dir: dir, Component: fmt.Sprintf("component-%03d", c),
				PRs: []state.CellPR{{Number: merged, Changes: []state.Change{{PR: c + 1, Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8"}}}}}
			if (t+c)%3 == 0 {
				open := 200000 + c
				cell.PRs = append(cell.PRs, state.CellPR{Number: open, Changes: []state.Change{{PR: c + 2, Commit: "m"}}})
				if t < 3 {
					put(state.PRKey(repo, open), &state.PR{Repo: repo, Number: open, Promotion: true, Open: &state.Switch{On: true, At: at}})
				}
			}
			put(state.CellKey(repo, dir, cell.Component), cell)
		}
	}
	return m
}

func mustJSON(b *testing.B, v any) []byte {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
